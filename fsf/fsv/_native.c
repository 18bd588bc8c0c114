/* Native: FSV payload bytes <-> the canonical Python form, in one pass each way, driven by a node table made
 * from the IR (fsf/fsv/native.py).
 *
 * The optional accelerated codec (docs/fsv.md, "Execution paths"). Program.decode reads the msgpack payload
 * once, checking every rule of the format as it goes -- the smallest head for every integer, length and count,
 * one float width per type, no NaN, infinity or -0.0, map keys strictly increasing, valid UTF-8, no ext types,
 * types, bounds, arities, the nesting limit, no trailing bytes -- and builds the same dicts, lists and scalars
 * as the reference reader; Program.check does the same without building anything. Program.encode validates a
 * value given in the exact types of the Python form while it writes the canonical bytes. None of them words an
 * error: any refusal raises fsf.errors.Refused (MemoryError stays itself), and the caller asks the other paths
 * and the reference reader or the validator, which say exactly what is wrong and where. So this file must accept
 * exactly what the reference accepts (the encoder: a subset of it) and give exactly its results;
 * tests/fsv/test_native.py calls it directly and tests/fsv/test_codec*.py run every case through every path.
 *
 * The format's facts -- head bytes, canonical ranges, the ref prefix, node kinds, the depth limits -- come from
 * _format.h, generated from the one table fsf/fsv/format.py (tests/fsv/test_format_table.py keeps it fresh).
 *
 * Hostile input: every read is bounds-checked against the end of the buffer before it happens; a declared
 * count is compared with the bytes left before anything is allocated for it, and lists are allocated up front
 * only up to PREALLOC_MAX items (beyond that they grow as items actually arrive), so memory stays a small
 * multiple of the input; recursion is bounded by the nesting limit both ways. The limit is fsf.limits.MAX_DEPTH,
 * given by Python as the `max_depth` argument of Program (fsf.fsv.native.codec), and counted by the one rule stated
 * there: msgpack containers, a union ([index, fields...]) being one. The decode budget (fsf.fsv.codec.decode's
 * `max_values`, an argument of decode and check) is counted as the reference reader counts it: one per msgpack
 * value, before its head is read. The encoder runs no Python code of the value's (exact types only; see
 * write_fields) and holds what it walks.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <datetime.h>
#include <structmember.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "_format.h"  /* the format's facts, generated from fsf/fsv/format.py */

#ifndef FSF_NATIVE_SOURCE_DIGEST
#define FSF_NATIVE_SOURCE_DIGEST ""
#endif

#define STR_(x) #x
#define STR(x) STR_(x)
#define PREALLOC_MAX 2048    /* lists longer than this grow as their items arrive */

/* Node kinds: FSF_NODE_* of _format.h (fsf.fsv.format.NodeKind), the kinds of fsf/fsv/native.py's table. */

/* An msgpack integer: `s` when negative, else `u`. */
typedef struct {
    int neg;
    int64_t s;
    uint64_t u;
} Int;

typedef struct {
    int op;
    Py_ssize_t lo, hi;      /* ARR, MAP: count bounds; STR: code points, BYTES: bytes (hi < 0: none) */
    Int ilo, ihi;           /* INT: inclusive bounds */
    int width;              /* FLOAT: 32 or 64 */
    int has_flo, has_fhi;   /* FLOAT: bounds present */
    double flo, fhi;
    Py_ssize_t a, b;        /* OPT: inner; ARR: item; MAP: key, value */
    Py_ssize_t n;           /* SHAPE: fields; ENUM: members; UNION: variants */
    PyObject **names;       /* SHAPE: field names; ENUM: member names; UNION: variant names (borrowed) */
    Py_ssize_t *kids;       /* SHAPE: field nodes; UNION: each variant's SHAPE node */
    PyObject *lookup;       /* ENUM, UNION: dict name -> index (owned) */
} Node;

typedef struct {
    PyObject_HEAD
    Node *nodes;
    Py_ssize_t count;
    PyObject *spec;         /* the node table it was built from: owns every name */
    int max_depth;          /* containers nested deeper are refused (fsf.limits.MAX_DEPTH) */
} Program;

/* Classes: the generated classes a decode builds instead of dicts, and an encode reads instead of dicts
 * (Program.bind), one entry per node. A SHAPE node (a shape or a union's variant) gets a class and the slot
 * offsets of its fields, in field order; an ENUM node the tuple of its members, in member order (and, for the
 * encoder, the same members sorted by address, to find a member's index by identity). The classes' own checks
 * are done in Python before binding (fsf/codegen/objects.py: plain attrs classes whose __init__ only stores the
 * fields and whose attributes are read by the generic lookup); here each field must be a writable object slot
 * of the class, so reading an attribute is reading its slot. */
typedef struct {
    PyObject *member;       /* borrowed from the members tuple */
    Py_ssize_t index;
} Member;

typedef struct {
    PyObject_HEAD
    PyObject *program;      /* the Program it was bound to (owned) */
    Py_ssize_t count;
    PyTypeObject **cls;     /* SHAPE nodes: the class (owned), else NULL */
    Py_ssize_t **offsets;   /* SHAPE nodes: each field's slot offset */
    PyObject **members;     /* ENUM nodes: the members, a tuple (owned), else NULL */
    Member **by_address;    /* ENUM nodes: the members sorted by address, else NULL */
} Classes;

typedef struct {
    const unsigned char *base, *p, *end;
    const Node *nodes;
    int build;              /* 0: check only (Program.check), every value read as None */
    int max_depth;
    Py_ssize_t left;        /* the decode budget: msgpack values that may still be read */
    const Classes *cl;      /* build objects of these classes instead of dicts (NULL: dicts) */
} Reader;

/* ---------------------------------------------------------------------------------------------------------- */
/* Refusals and raw reads */

static PyObject *Refused;  /* fsf.errors.Refused: the one signal of a refusal, set once at module init */

static PyObject *refuse(const Reader *r, const char *why) {
    PyErr_Format(Refused, "%s at byte %zd", why, (Py_ssize_t)(r->p - r->base));
    return NULL;
}

static int refuse_int(const Reader *r, const char *why) {
    refuse(r, why);
    return -1;
}

#define NEED(r, k) ((size_t)((r)->end - (r)->p) >= (size_t)(k))

static inline uint16_t be16(const unsigned char *p) { return (uint16_t)((p[0] << 8) | p[1]); }

static inline uint32_t be32(const unsigned char *p) {
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | (uint32_t)p[3];
}

static inline uint64_t be64(const unsigned char *p) { return ((uint64_t)be32(p) << 32) | be32(p + 4); }

/* An integer in its smallest head. */
static int read_int(Reader *r, Int *v) {
    if (!NEED(r, 1)) return refuse_int(r, "truncated");
    const unsigned char *p = r->p;
    unsigned char h = p[0];
    v->neg = 0;
    v->s = 0;
    v->u = 0;
    if (h <= FSF_POSITIVE_FIXINT_LAST) {
        v->u = h;
        r->p += 1;
        return 0;
    }
    if (h >= FSF_NEGATIVE_FIXINT_FIRST) {
        v->neg = 1;
        v->s = (int8_t)h;
        r->p += 1;
        return 0;
    }
    switch (h) {
    case FSF_UINT8:
        if (!NEED(r, 2)) return refuse_int(r, "truncated");
        v->u = p[1];
        if (v->u < FSF_UINT8_LO) return refuse_int(r, "non_canonical");
        r->p += 2;
        return 0;
    case FSF_UINT16:
        if (!NEED(r, 3)) return refuse_int(r, "truncated");
        v->u = be16(p + 1);
        if (v->u < FSF_UINT16_LO) return refuse_int(r, "non_canonical");
        r->p += 3;
        return 0;
    case FSF_UINT32:
        if (!NEED(r, 5)) return refuse_int(r, "truncated");
        v->u = be32(p + 1);
        if (v->u < FSF_UINT32_LO) return refuse_int(r, "non_canonical");
        r->p += 5;
        return 0;
    case FSF_UINT64:
        if (!NEED(r, 9)) return refuse_int(r, "truncated");
        v->u = be64(p + 1);
        if (v->u < FSF_UINT64_LO) return refuse_int(r, "non_canonical");
        r->p += 9;
        return 0;
    case FSF_INT8:
        if (!NEED(r, 2)) return refuse_int(r, "truncated");
        v->neg = 1;
        v->s = (int8_t)p[1];
        if (v->s > FSF_INT8_HI) return refuse_int(r, "non_canonical");
        r->p += 2;
        return 0;
    case FSF_INT16:
        if (!NEED(r, 3)) return refuse_int(r, "truncated");
        v->neg = 1;
        v->s = (int16_t)be16(p + 1);
        if (v->s > FSF_INT16_HI) return refuse_int(r, "non_canonical");
        r->p += 3;
        return 0;
    case FSF_INT32:
        if (!NEED(r, 5)) return refuse_int(r, "truncated");
        v->neg = 1;
        v->s = (int32_t)be32(p + 1);
        if (v->s > FSF_INT32_HI) return refuse_int(r, "non_canonical");
        r->p += 5;
        return 0;
    case FSF_INT64:
        if (!NEED(r, 9)) return refuse_int(r, "truncated");
        v->neg = 1;
        v->s = (int64_t)be64(p + 1);
        if (v->s > FSF_INT64_HI) return refuse_int(r, "non_canonical");
        r->p += 9;
        return 0;
    default:
        return refuse_int(r, "type");
    }
}

/* a < b, and a <= b, as integers. */
static inline int int_lt(const Int *a, const Int *b) {
    if (a->neg != b->neg) return a->neg;
    return a->neg ? a->s < b->s : a->u < b->u;
}

static inline int int_le(const Int *a, const Int *b) {
    if (a->neg != b->neg) return a->neg;
    return a->neg ? a->s <= b->s : a->u <= b->u;
}

static PyObject *int_object(const Int *v) {
    if (v->neg) return PyLong_FromLongLong(v->s);
    if (v->u <= (uint64_t)INT64_MAX) return PyLong_FromLongLong((long long)v->u);
    return PyLong_FromUnsignedLongLong(v->u);
}

/* A length or count head of one family, in its smallest form. Families: the fix range (`fix_lo`..`fix_lo` +
 * `fix_n` - 1, 0 if none), then up to three wider heads (`h8` (0 if none), `h16`, `h32`) with their smallest
 * canonical counts, and the largest count of all. The canonical ranges follow each other, so a count below the
 * next head's smallest takes this head. On success the reader stands after the head. */
typedef struct {
    unsigned char fix_lo, fix_n, h8, h16, h32;
    uint32_t min8, min16, min32, max32;
} Family;

static const Family STR_FAMILY = {FSF_FIXSTR_FIRST, FSF_FIXSTR_HI + 1, FSF_STR8, FSF_STR16, FSF_STR32,
                                  FSF_STR8_LO, FSF_STR16_LO, FSF_STR32_LO, FSF_STR32_HI};
static const Family BIN_FAMILY = {0, 0, FSF_BIN8, FSF_BIN16, FSF_BIN32,
                                  FSF_BIN8_LO, FSF_BIN16_LO, FSF_BIN32_LO, FSF_BIN32_HI};
static const Family ARR_FAMILY = {FSF_FIXARRAY_FIRST, FSF_FIXARRAY_HI + 1, 0, FSF_ARRAY16, FSF_ARRAY32,
                                  0, FSF_ARRAY16_LO, FSF_ARRAY32_LO, FSF_ARRAY32_HI};
static const Family MAP_FAMILY = {FSF_FIXMAP_FIRST, FSF_FIXMAP_HI + 1, 0, FSF_MAP16, FSF_MAP32,
                                  0, FSF_MAP16_LO, FSF_MAP32_LO, FSF_MAP32_HI};

static int read_count(Reader *r, const Family *f, uint64_t *n) {
    if (!NEED(r, 1)) return refuse_int(r, "truncated");
    const unsigned char *p = r->p;
    unsigned char h = p[0];
    if (f->fix_n && h >= f->fix_lo && h < f->fix_lo + f->fix_n) {
        *n = (uint64_t)(h - f->fix_lo);
        r->p += 1;
        return 0;
    }
    if (f->h8 && h == f->h8) {
        if (!NEED(r, 2)) return refuse_int(r, "truncated");
        *n = p[1];
        if (*n < f->min8) return refuse_int(r, "non_canonical");
        r->p += 2;
        return 0;
    }
    if (h == f->h16) {
        if (!NEED(r, 3)) return refuse_int(r, "truncated");
        *n = be16(p + 1);
        if (*n < f->min16) return refuse_int(r, "non_canonical");
        r->p += 3;
        return 0;
    }
    if (h == f->h32) {
        if (!NEED(r, 5)) return refuse_int(r, "truncated");
        *n = be32(p + 1);
        if (*n < f->min32) return refuse_int(r, "non_canonical");
        r->p += 5;
        return 0;
    }
    return refuse_int(r, "type");
}

/* The `n` payload bytes of a str or bin: `*start`, and the reader after them. */
static int read_span(Reader *r, const Family *f, const unsigned char **start, Py_ssize_t *len) {
    uint64_t n;
    if (read_count(r, f, &n) < 0) return -1;
    if (!NEED(r, n)) return refuse_int(r, "truncated");
    *start = r->p;
    *len = (Py_ssize_t)n;
    r->p += n;
    return 0;
}

/* ---------------------------------------------------------------------------------------------------------- */
/* Values */

static PyObject *read_value(Reader *r, Py_ssize_t at, int depth);

/* What a value reads as when only checking. */
static PyObject *checked(void) { Py_RETURN_NONE; }

/* The code points of strict UTF-8 (RFC 3629: no overlong form, no surrogate, nothing above U+10FFFF, exactly
 * what CPython's strict decoder accepts), or -1. */
static Py_ssize_t utf8_length(const unsigned char *s, Py_ssize_t n) {
    Py_ssize_t count = 0, i = 0;
    while (i < n) {
        unsigned char c = s[i];
        int k;
        unsigned char lo = 0x80, hi = 0xbf;  /* the range of the second byte */
        if (c < 0x80) {
            i++;
            count++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf) k = 1;
        else if (c >= 0xe0 && c <= 0xef) {
            k = 2;
            if (c == 0xe0) lo = 0xa0;
            if (c == 0xed) hi = 0x9f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            k = 3;
            if (c == 0xf0) lo = 0x90;
            if (c == 0xf4) hi = 0x8f;
        } else {
            return -1;
        }
        if (n - i <= k || s[i + 1] < lo || s[i + 1] > hi) return -1;
        for (int j = 2; j <= k; j++) {
            if ((s[i + j] & 0xc0) != 0x80) return -1;
        }
        i += k + 1;
        count++;
    }
    return count;
}

/* Unaligned loads of 8 and 4 bytes. */
static inline uint64_t load64(const unsigned char *s) {
    uint64_t w;
    memcpy(&w, s, sizeof w);
    return w;
}

static inline uint32_t load32(const unsigned char *s) {
    uint32_t w;
    memcpy(&w, s, sizeof w);
    return w;
}

/* True when all `n` bytes are below 0x80: eight at a time, the last eight (or four) read overlapping the ones
 * before, so no byte-by-byte tail; false at the first word holding another byte. */
static inline int is_ascii(const unsigned char *s, Py_ssize_t n) {
    if (n >= 8) {
        for (Py_ssize_t i = 0; i + 8 < n; i += 8) {
            if (load64(s + i) & 0x8080808080808080ULL) return 0;
        }
        return !(load64(s + n - 8) & 0x8080808080808080ULL);
    }
    uint32_t acc = 0;
    if (n >= 4) {
        acc = load32(s) | load32(s + n - 4);
    } else {
        for (Py_ssize_t i = 0; i < n; i++) acc |= s[i];
    }
    return !(acc & 0x80808080U);
}

static PyObject *make_str(const Reader *r, const Node *node, const unsigned char *s, Py_ssize_t n) {
    /* Each code point takes 1 to 4 bytes: refuse what cannot fit the bounds before decoding. */
    if (n < node->lo || (node->hi >= 0 && n / 4 > node->hi)) return refuse(r, "bounds");
    if (!r->build) {
        Py_ssize_t cp = utf8_length(s, n);
        if (cp < 0) return refuse(r, "utf8");
        if (cp < node->lo || (node->hi >= 0 && cp > node->hi)) return refuse(r, "bounds");
        return checked();
    }
    if (n > 1 && is_ascii(s, n)) {
        /* ASCII, the commonest text, copied as it is: the same compact str the strict decoder makes, without its
         * layers. (Empty and one-character strings are left to it, which returns CPython's shared ones.) */
        PyObject *ascii = PyUnicode_New(n, 127);
        if (ascii == NULL) return NULL;
        memcpy(PyUnicode_1BYTE_DATA(ascii), s, (size_t)n);
        if (n < node->lo || (node->hi >= 0 && n > node->hi)) {
            Py_DECREF(ascii);
            return refuse(r, "bounds");
        }
        return ascii;
    }
    PyObject *text = PyUnicode_DecodeUTF8((const char *)s, n, NULL);
    if (text == NULL) {  /* UnicodeDecodeError: refused like any other problem */
        if (!PyErr_ExceptionMatches(PyExc_UnicodeDecodeError)) return NULL;
        PyErr_Clear();
        return refuse(r, "utf8");
    }
    Py_ssize_t cp = PyUnicode_GET_LENGTH(text);
    if (cp < node->lo || (node->hi >= 0 && cp > node->hi)) {
        Py_DECREF(text);
        return refuse(r, "bounds");
    }
    return text;
}

/* A str (the commonest value: its fix head read here, the others by read_span). */
static inline PyObject *read_str(Reader *r, const Node *node) {
    const unsigned char *s;
    Py_ssize_t n;
    if (NEED(r, 1) && r->p[0] >= FSF_FIXSTR_FIRST && r->p[0] <= FSF_FIXSTR_LAST) {
        n = r->p[0] - FSF_FIXSTR_FIRST;
        if (!NEED(r, 1 + n)) return refuse(r, "truncated");
        s = r->p + 1;
        r->p += 1 + n;
    } else if (read_span(r, &STR_FAMILY, &s, &n) < 0) {
        return NULL;
    }
    return make_str(r, node, s, n);
}

/* A value of node `at`: a str read directly (counted against the budget as read_value counts it), the rest by
 * read_value. */
static inline PyObject *read_item(Reader *r, Py_ssize_t at, int depth) {
    const Node *node = &r->nodes[at];
    if (node->op != FSF_NODE_STR) return read_value(r, at, depth);
    if (--r->left < 0) return refuse(r, "budget");
    return read_str(r, node);
}

static PyObject *read_float(Reader *r, const Node *node) {
    if (!NEED(r, 1)) return refuse(r, "truncated");
    const unsigned char *p = r->p;
    double d;
    if (node->width == 64) {
        if (p[0] != FSF_FLOAT64) return refuse(r, "type");
        if (!NEED(r, 9)) return refuse(r, "truncated");
        uint64_t bits = be64(p + 1);
        if ((bits & 0x7ff0000000000000ULL) == 0x7ff0000000000000ULL) return refuse(r, "not_finite");
        if (bits == 0x8000000000000000ULL) return refuse(r, "non_canonical");
        memcpy(&d, &bits, sizeof d);
        r->p += 9;
    } else {
        if (p[0] != FSF_FLOAT32) return refuse(r, "type");
        if (!NEED(r, 5)) return refuse(r, "truncated");
        uint32_t bits = be32(p + 1);
        float f;
        if ((bits & 0x7f800000U) == 0x7f800000U) return refuse(r, "not_finite");
        if (bits == 0x80000000U) return refuse(r, "non_canonical");
        memcpy(&f, &bits, sizeof f);
        d = (double)f;
        r->p += 5;
    }
    if ((node->has_flo && !(node->flo <= d)) || (node->has_fhi && !(d <= node->fhi))) return refuse(r, "bounds");
    return r->build ? PyFloat_FromDouble(d) : checked();
}

static PyObject *read_ref(Reader *r) {
    static const char hex[] = "0123456789abcdef";
    const unsigned char *s;
    Py_ssize_t n;
    if (read_span(r, &BIN_FAMILY, &s, &n) < 0) return NULL;
    if (n != FSF_ID_DIGEST_SIZE) return refuse(r, "bounds");
    if (!r->build) return checked();
    PyObject *text = PyUnicode_New(FSF_REF_PREFIX_SIZE + 2 * FSF_ID_DIGEST_SIZE, 127);
    if (text == NULL) return NULL;
    Py_UCS1 *out = PyUnicode_1BYTE_DATA(text);
    memcpy(out, FSF_REF_PREFIX, FSF_REF_PREFIX_SIZE);
    for (Py_ssize_t i = 0; i < FSF_ID_DIGEST_SIZE; i++) {
        out[FSF_REF_PREFIX_SIZE + 2 * i] = (Py_UCS1)hex[s[i] >> 4];
        out[FSF_REF_PREFIX_SIZE + 1 + 2 * i] = (Py_UCS1)hex[s[i] & 15];
    }
    return text;
}

/* The fields of a record (a shape, or a variant after its index): `count` values in a new dict. */
static PyObject *read_fields(Reader *r, const Node *node, int depth) {
    if (!r->build) {
        for (Py_ssize_t i = 0; i < node->n; i++) {
            PyObject *v = read_value(r, node->kids[i], depth);
            if (v == NULL) return NULL;
            Py_DECREF(v);
        }
        return checked();
    }
    PyObject *out = _PyDict_NewPresized(node->n);  /* no resize as the fields arrive */
    if (out == NULL) return NULL;
    for (Py_ssize_t i = 0; i < node->n; i++) {
        PyObject *v = read_item(r, node->kids[i], depth);
        if (v == NULL || PyDict_SetItem(out, node->names[i], v) < 0) {
            Py_XDECREF(v);
            Py_DECREF(out);
            return NULL;
        }
        Py_DECREF(v);
    }
    return out;
}

/* The fields of a record as an object of its bound class: allocated, then each slot filled as its value is read
 * (what the class's __init__ would store; a slot not reached yet is NULL, which deallocation skips). */
static PyObject *read_object(Reader *r, const Node *node, int depth) {
    Py_ssize_t at = node - r->nodes;
    PyTypeObject *cls = r->cl->cls[at];
    const Py_ssize_t *offsets = r->cl->offsets[at];
    PyObject *out = cls->tp_alloc(cls, 0);
    if (out == NULL) return NULL;
    for (Py_ssize_t i = 0; i < node->n; i++) {
        PyObject *v = read_item(r, node->kids[i], depth);
        if (v == NULL) {
            Py_DECREF(out);
            return NULL;
        }
        *(PyObject **)((char *)out + offsets[i]) = v;
    }
    return out;
}

/* An enum member: its name, or its member object when building objects. */
static PyObject *member(const Reader *r, const Node *node, uint64_t i) {
    PyObject *m = r->cl != NULL ? PyTuple_GET_ITEM(r->cl->members[node - r->nodes], (Py_ssize_t)i) : node->names[i];
    Py_INCREF(m);
    return m;
}

static PyObject *read_array(Reader *r, const Node *node, int depth) {
    uint64_t n;
    if (read_count(r, &ARR_FAMILY, &n) < 0) return NULL;
    if (n < (uint64_t)node->lo || n > (uint64_t)node->hi) return refuse(r, "bounds");
    if (!NEED(r, n)) return refuse(r, "truncated");  /* every item takes at least one byte */
    Py_ssize_t count = (Py_ssize_t)n;
    if (!r->build) {
        for (Py_ssize_t i = 0; i < count; i++) {
            PyObject *v = read_value(r, node->a, depth);
            if (v == NULL) return NULL;
            Py_DECREF(v);
        }
        return checked();
    }
    if (count <= PREALLOC_MAX) {
        PyObject *out = PyList_New(count);
        if (out == NULL) return NULL;
        for (Py_ssize_t i = 0; i < count; i++) {
            PyObject *v = read_item(r, node->a, depth);
            if (v == NULL) {
                Py_DECREF(out);
                return NULL;
            }
            PyList_SET_ITEM(out, i, v);
        }
        return out;
    }
    PyObject *out = PyList_New(0);
    if (out == NULL) return NULL;
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *v = read_value(r, node->a, depth);
        if (v == NULL || PyList_Append(out, v) < 0) {
            Py_XDECREF(v);
            Py_DECREF(out);
            return NULL;
        }
        Py_DECREF(v);
    }
    return out;
}

/* A map key: its Python form, and what orders it (the UTF-8 bytes of a str, else the integer). */
typedef struct {
    const unsigned char *s;
    Py_ssize_t n;
    Int v;
} Key;

static PyObject *read_key(Reader *r, const Node *node, Key *k) {
    if (--r->left < 0) return refuse(r, "budget");
    if (node->op == FSF_NODE_STR) {
        if (read_span(r, &STR_FAMILY, &k->s, &k->n) < 0) return NULL;
        return make_str(r, node, k->s, k->n);
    }
    if (node->op == FSF_NODE_INT) {
        if (read_int(r, &k->v) < 0) return NULL;
        if (!int_le(&node->ilo, &k->v) || !int_le(&k->v, &node->ihi)) return refuse(r, "bounds");
        return r->build ? int_object(&k->v) : checked();
    }
    if (node->op == FSF_NODE_ENUM) {
        if (read_int(r, &k->v) < 0) return NULL;
        if (k->v.neg || k->v.u >= (uint64_t)node->n) return refuse(r, "bounds");
        return member(r, node, k->v.u);
    }
    return refuse(r, "key type");  /* not a key type of the language: the reference decides */
}

static int key_lt(int op, const Key *a, const Key *b) {
    if (op != FSF_NODE_STR) return int_lt(&a->v, &b->v);
    Py_ssize_t m = a->n < b->n ? a->n : b->n;
    int c = m ? memcmp(a->s, b->s, (size_t)m) : 0;
    return c < 0 || (c == 0 && a->n < b->n);
}

static PyObject *read_map(Reader *r, const Node *node, int depth) {
    uint64_t n;
    if (read_count(r, &MAP_FAMILY, &n) < 0) return NULL;
    if (n < (uint64_t)node->lo || n > (uint64_t)node->hi) return refuse(r, "bounds");
    if (n > (uint64_t)(r->end - r->p) / 2) return refuse(r, "truncated");  /* two bytes at least per entry */
    const Node *key_node = &r->nodes[node->a];
    PyObject *out = r->build ? PyDict_New() : checked();
    if (out == NULL) return NULL;
    Key prev = {NULL, 0, {0, 0, 0}}, cur;
    for (uint64_t i = 0; i < n; i++) {
        PyObject *k = read_key(r, key_node, &cur);
        if (k == NULL) goto fail;
        if (i > 0 && !key_lt(key_node->op, &prev, &cur)) {
            Py_DECREF(k);
            refuse(r, "non_canonical");
            goto fail;
        }
        prev = cur;
        PyObject *v = read_value(r, node->b, depth);
        if (v == NULL || (r->build && PyDict_SetItem(out, k, v) < 0)) {
            Py_DECREF(k);
            Py_XDECREF(v);
            goto fail;
        }
        Py_DECREF(k);
        Py_DECREF(v);
    }
    return out;
fail:
    Py_DECREF(out);
    return NULL;
}

static PyObject *read_union(Reader *r, const Node *node, int depth) {
    uint64_t n;
    Int tag;
    if (read_count(r, &ARR_FAMILY, &n) < 0) return NULL;
    if (n == 0) return refuse(r, "arity");
    if (--r->left < 0) return refuse(r, "budget");  /* the variant index is a value of its own */
    if (read_int(r, &tag) < 0) return NULL;
    if (tag.neg || tag.u >= (uint64_t)node->n) return refuse(r, "bounds");
    const Node *variant = &r->nodes[node->kids[tag.u]];
    if (n != (uint64_t)variant->n + 1) return refuse(r, "arity");
    if (r->cl != NULL && r->build) return read_object(r, variant, depth);  /* the variant's class: no wrapper */
    PyObject *body = read_fields(r, variant, depth);
    if (body == NULL || !r->build) return body;
    PyObject *out = PyDict_New();
    if (out == NULL || PyDict_SetItem(out, node->names[tag.u], body) < 0) {
        Py_XDECREF(out);
        Py_DECREF(body);
        return NULL;
    }
    Py_DECREF(body);
    return out;
}

static PyObject *read_value(Reader *r, Py_ssize_t at, int depth) {
    const Node *node = &r->nodes[at];
    if (--r->left < 0) return refuse(r, "budget");  /* one msgpack value, counted once (an optional's too) */
    while (node->op == FSF_NODE_OPT) {
        if (!NEED(r, 1)) return refuse(r, "truncated");
        if (r->p[0] == FSF_NIL) {
            r->p += 1;
            Py_RETURN_NONE;
        }
        node = &r->nodes[node->a];
    }
    switch (node->op) {
    case FSF_NODE_BOOL:
        if (!NEED(r, 1)) return refuse(r, "truncated");
        if (r->p[0] == FSF_FALSE || r->p[0] == FSF_TRUE) {
            PyObject *b = !r->build ? Py_None : r->p[0] == FSF_TRUE ? Py_True : Py_False;
            r->p += 1;
            Py_INCREF(b);
            return b;
        }
        return refuse(r, "type");
    case FSF_NODE_INT:
    case FSF_NODE_TIME: {
        Int v;
        if (read_int(r, &v) < 0) return NULL;
        if (!int_le(&node->ilo, &v) || !int_le(&v, &node->ihi)) return refuse(r, "bounds");
        return r->build ? int_object(&v) : checked();
    }
    case FSF_NODE_FLOAT:
        return read_float(r, node);
    case FSF_NODE_STR:
        return read_str(r, node);
    case FSF_NODE_BYTES: {
        const unsigned char *s;
        Py_ssize_t n;
        if (read_span(r, &BIN_FAMILY, &s, &n) < 0) return NULL;
        if (n < node->lo || (node->hi >= 0 && n > node->hi)) return refuse(r, "bounds");
        return r->build ? PyBytes_FromStringAndSize((const char *)s, n) : checked();
    }
    case FSF_NODE_REF:
        return read_ref(r);
    case FSF_NODE_ENUM: {
        Int v;
        if (read_int(r, &v) < 0) return NULL;
        if (v.neg || v.u >= (uint64_t)node->n) return refuse(r, "bounds");
        if (!r->build) return checked();
        return member(r, node, v.u);
    }
    default:
        break;
    }
    /* The containers: arrays, maps, shapes and unions, one level each. */
    if (depth >= r->max_depth) return refuse(r, "too_deep");
    switch (node->op) {
    case FSF_NODE_ARR:
        return read_array(r, node, depth + 1);
    case FSF_NODE_MAP:
        return read_map(r, node, depth + 1);
    case FSF_NODE_SHAPE: {
        uint64_t n;
        if (read_count(r, &ARR_FAMILY, &n) < 0) return NULL;
        if (n != (uint64_t)node->n) return refuse(r, "arity");
        return r->cl != NULL && r->build ? read_object(r, node, depth + 1) : read_fields(r, node, depth + 1);
    }
    case FSF_NODE_UNION:
        return read_union(r, node, depth + 1);
    default:
        return refuse(r, "node");
    }
}

/* ---------------------------------------------------------------------------------------------------------- */
/* Encoding: the Python form -> canonical payload bytes.
 *
 * The mirror of the reader: it accepts only what Schema.validate accepts, and only in the exact Python types of
 * the canonical form (dict, list, str, int, float, bool, bytes, None); anything else -- a subclass, an int for a
 * float, a datetime for a time, a value the validator would refuse -- raises a bare fsf.errors.Refused, and the codec
 * asks its other paths and the validator, which word the error. It never runs Python code of the value's
 * (exact types only), so the containers cannot change while they are read. */

typedef struct {
    PyObject *bytes;        /* the result, written in place and cut to `len` at the end (owned; NULL: none yet) */
    char *data;             /* its buffer */
    size_t len, cap;
    int max_depth;
    const Classes *cl;      /* also read objects of these classes (NULL: the Python form only) */
} Out;

static int int_bound(PyObject *obj, Int *out);

static int grow(Out *o, size_t k) {
    if (o->cap - o->len >= k) return 0;
    size_t cap = o->cap ? o->cap : 256;
    while (cap - o->len < k) {
        if (cap > PY_SSIZE_T_MAX / 2) {
            PyErr_NoMemory();
            return -1;
        }
        cap *= 2;
    }
    /* The bytes object grows in place (no copy of the whole output at the end, as PyBytes_FromStringAndSize
     * of a separate buffer would make). */
    if (o->bytes == NULL) o->bytes = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)cap);
    else if (_PyBytes_Resize(&o->bytes, (Py_ssize_t)cap) < 0) o->bytes = NULL;  /* (freed by the resize) */
    if (o->bytes == NULL) return -1;
    o->data = PyBytes_AS_STRING(o->bytes);
    o->cap = cap;
    return 0;
}

/* Room for `k` more bytes. */
static inline int reserve(Out *o, size_t k) { return o->cap - o->len >= k ? 0 : grow(o, k); }

static int put(Out *o, const void *s, size_t n) {
    if (n == 0) return 0;  /* (an empty prefix: memcpy may not be given the NULL of an empty buffer) */
    if (reserve(o, n) < 0) return -1;
    memcpy(o->data + o->len, s, n);
    o->len += n;
    return 0;
}

/* A head byte and a big-endian argument of `k` bytes. */
static inline int put_head(Out *o, unsigned char head, uint64_t arg, int k) {
    if (reserve(o, 9) < 0) return -1;
    unsigned char *b = (unsigned char *)o->data + o->len;
    b[0] = head;
    for (int i = 0; i < k; i++) b[1 + i] = (unsigned char)(arg >> (8 * (k - 1 - i)));
    o->len += (size_t)(1 + k);
    return 0;
}

static int put_int(Out *o, const Int *v) {
    if (!v->neg) {
        uint64_t u = v->u;
        if (u <= FSF_POSITIVE_FIXINT_HI) return put_head(o, (unsigned char)(FSF_POSITIVE_FIXINT_FIRST + u), 0, 0);
        if (u <= FSF_UINT8_HI) return put_head(o, FSF_UINT8, u, 1);
        if (u <= FSF_UINT16_HI) return put_head(o, FSF_UINT16, u, 2);
        if (u <= FSF_UINT32_HI) return put_head(o, FSF_UINT32, u, 4);
        return put_head(o, FSF_UINT64, u, 8);
    }
    int64_t s = v->s;
    if (s >= FSF_NEGATIVE_FIXINT_LO) {
        return put_head(o, (unsigned char)(FSF_NEGATIVE_FIXINT_FIRST + (s - FSF_NEGATIVE_FIXINT_LO)), 0, 0);
    }
    if (s >= FSF_INT8_LO) return put_head(o, FSF_INT8, (uint64_t)s, 1);
    if (s >= FSF_INT16_LO) return put_head(o, FSF_INT16, (uint64_t)s, 2);
    if (s >= FSF_INT32_LO) return put_head(o, FSF_INT32, (uint64_t)s, 4);
    return put_head(o, FSF_INT64, (uint64_t)s, 8);
}

/* A length or count head of a family in its smallest form. */
static int put_count(Out *o, const Family *f, uint64_t n) {
    if (f->fix_n && n < f->fix_n) return put_head(o, (unsigned char)(f->fix_lo + n), 0, 0);
    if (f->h8 && n < f->min16) return put_head(o, f->h8, n, 1);
    if (n < f->min32) return put_head(o, f->h16, n, 2);
    if (n <= f->max32) return put_head(o, f->h32, n, 4);
    PyErr_SetString(Refused, "longer than msgpack allows");
    return -1;
}

static int no(const char *why) {
    PyErr_SetString(Refused, why);
    return -1;
}

/* An exact int within -2**63 .. 2**64 - 1. */
static int int_of(PyObject *obj, Int *v) {
    if (!PyLong_CheckExact(obj)) return no("not an int");
    if (int_bound(obj, v) < 0) {
        PyErr_Clear();
        return no("int out of range");
    }
    return 0;
}

/* A str's UTF-8 (NULL with a refusal when it holds a lone surrogate, which UTF-8 cannot carry). */
static const char *utf8_of(PyObject *obj, Py_ssize_t *n) {
    if (PyUnicode_IS_COMPACT_ASCII(obj)) {
        *n = PyUnicode_GET_LENGTH(obj);
        return (const char *)PyUnicode_1BYTE_DATA(obj);
    }
    const char *s = PyUnicode_AsUTF8AndSize(obj, n);
    if (s == NULL && PyErr_ExceptionMatches(PyExc_UnicodeEncodeError)) {
        PyErr_Clear();
        no("lone surrogate");
    }
    return s;
}

static int write_value(Out *o, const Node *nodes, Py_ssize_t at, PyObject *v, int depth);

/* The index of enum node `at`'s member `v`: its name (an exact str), or, with classes, the member object itself
 * (found by identity: a member's value is its name, checked when bound); -1 with a refusal for anything else. */
static Py_ssize_t member_index(const Out *o, const Node *nodes, Py_ssize_t at, PyObject *v) {
    if (PyUnicode_CheckExact(v)) {
        PyObject *index = PyDict_GetItemWithError(nodes[at].lookup, v);
        if (index != NULL) return PyLong_AsSsize_t(index);
        return PyErr_Occurred() ? -1 : no("not a member");
    }
    const Member *m = o->cl != NULL ? o->cl->by_address[at] : NULL;
    if (m == NULL) return no("not a member");
    Py_ssize_t lo = 0, hi = nodes[at].n;
    while (lo < hi) {
        Py_ssize_t mid = lo + (hi - lo) / 2;
        if (m[mid].member == v) return m[mid].index;
        if ((uintptr_t)m[mid].member < (uintptr_t)v) lo = mid + 1;
        else hi = mid;
    }
    return no("not a member");
}

/* Days from 1970-01-01 to a proleptic Gregorian date (H. Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, int64_t m, int64_t d) {
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static PyTypeObject *timezone_type;  /* datetime.timezone: a fixed offset, final, implemented in C */

/* A `datetime` with a `datetime.timezone` as nanoseconds since the epoch (as fsf.bytecode.vm.time_nanoseconds). Other
 * tzinfo classes run Python code of their own, so they go to the validator's path, as do naive datetimes. */
static int time_of(PyObject *v, Int *x) {
    if (!PyDateTime_CheckExact(v)) return no("not a time");
    PyObject *tz = PyDateTime_DATE_GET_TZINFO(v);
    if (Py_TYPE(tz) != timezone_type) return no("not a fixed-offset datetime");
    PyObject *offset = PyObject_CallMethod(tz, "utcoffset", "O", Py_None);
    if (offset == NULL) return -1;
    if (!PyDelta_CheckExact(offset)) {
        Py_DECREF(offset);
        return no("no offset");
    }
    int64_t offset_us = ((int64_t)PyDateTime_DELTA_GET_DAYS(offset) * 86400 + PyDateTime_DELTA_GET_SECONDS(offset))
                        * 1000000 + PyDateTime_DELTA_GET_MICROSECONDS(offset);
    Py_DECREF(offset);
    int64_t days = days_from_civil(PyDateTime_GET_YEAR(v), PyDateTime_GET_MONTH(v), PyDateTime_GET_DAY(v));
    int64_t seconds = days * 86400 + PyDateTime_DATE_GET_HOUR(v) * 3600 + PyDateTime_DATE_GET_MINUTE(v) * 60
                      + PyDateTime_DATE_GET_SECOND(v);
    int64_t us = seconds * 1000000 + PyDateTime_DATE_GET_MICROSECOND(v) - offset_us;  /* |us| < 2**59 */
    if (us > INT64_MAX / 1000 || us < INT64_MIN / 1000) return no("time out of range");
    x->neg = us < 0;
    x->s = us * 1000;
    x->u = us < 0 ? 0 : (uint64_t)(us * 1000);
    return 0;
}

/* A str's head in its smallest form and its `n` bytes of UTF-8, with one check of the room left (the commonest
 * value: put_count and put, unrolled). */
static int put_str(Out *o, const char *s, Py_ssize_t n) {
    size_t k = (size_t)n;
    if (k > FSF_STR32_HI) return no("longer than msgpack allows");
    if (reserve(o, k + 5) < 0) return -1;
    unsigned char *p = (unsigned char *)o->data + o->len;
    if (k <= FSF_FIXSTR_HI) {
        *p++ = (unsigned char)(FSF_FIXSTR_FIRST + k);
    } else if (k <= FSF_STR8_HI) {
        *p++ = FSF_STR8;
        *p++ = (unsigned char)k;
    } else if (k <= FSF_STR16_HI) {
        *p++ = FSF_STR16;
        *p++ = (unsigned char)(k >> 8);
        *p++ = (unsigned char)k;
    } else {
        *p++ = FSF_STR32;
        for (int i = 3; i >= 0; i--) *p++ = (unsigned char)(k >> (8 * i));
    }
    if (k) memcpy(p, s, k);
    o->len = (size_t)((char *)p + k - o->data);
    return 0;
}

static int write_str(Out *o, const Node *node, PyObject *v) {
    if (!PyUnicode_CheckExact(v)) return no("not a str");
    Py_ssize_t cp = PyUnicode_GET_LENGTH(v), n;
    if (cp < node->lo || (node->hi >= 0 && cp > node->hi)) return no("str bounds");
    const char *s = utf8_of(v, &n);
    if (s == NULL) return -1;
    return put_str(o, s, n);
}

static int write_float(Out *o, const Node *node, PyObject *v) {
    if (!PyFloat_CheckExact(v)) return no("not a float");
    double d = PyFloat_AS_DOUBLE(v);
    if (!isfinite(d)) return no("not finite");
    if ((node->has_flo && d < node->flo) || (node->has_fhi && d > node->fhi)) return no("float bounds");
    d = d + 0.0;  /* -0.0 is written as +0.0 */
    if (node->width == 64) {
        uint64_t bits;
        memcpy(&bits, &d, sizeof bits);
        return put_head(o, FSF_FLOAT64, bits, 8);
    }
    if (fabs(d) > (double)FLT_MAX || (double)(float)d != d) return no("not exactly an f32");
    float f = (float)d;
    uint32_t bits;
    memcpy(&bits, &f, sizeof bits);
    return put_head(o, FSF_FLOAT32, bits, 4);
}

static int write_ref(Out *o, PyObject *v) {
    if (!PyUnicode_CheckExact(v) || !PyUnicode_IS_COMPACT_ASCII(v)
        || PyUnicode_GET_LENGTH(v) != FSF_REF_PREFIX_SIZE + 2 * FSF_ID_DIGEST_SIZE) {
        return no("not a ref");
    }
    const unsigned char *s = PyUnicode_1BYTE_DATA(v);
    unsigned char digest[FSF_ID_DIGEST_SIZE];
    if (memcmp(s, FSF_REF_PREFIX, FSF_REF_PREFIX_SIZE) != 0) return no("not a ref");
    for (int i = 0; i < 2 * FSF_ID_DIGEST_SIZE; i++) {
        unsigned char c = s[FSF_REF_PREFIX_SIZE + i];
        int x = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (x < 0) return no("not a ref");
        if (i % 2 == 0) digest[i / 2] = (unsigned char)(x << 4);
        else digest[i / 2] |= (unsigned char)x;
    }
    return put_count(o, &BIN_FAMILY, FSF_ID_DIGEST_SIZE) < 0 ? -1 : put(o, digest, FSF_ID_DIGEST_SIZE);
}

/* The fields of a record from its dict: every required field present, no unknown key. */
static int write_fields(Out *o, const Node *nodes, const Node *node, PyObject *v, int depth) {
    if (!PyDict_CheckExact(v)) return no("not a dict");
    /* Keys of exact str only: looking a field up then compares str with str, and runs no __eq__ of the value's. */
    Py_ssize_t pos = 0, found = 0;
    PyObject *key, *item;
    while (PyDict_Next(v, &pos, &key, &item)) {
        if (!PyUnicode_CheckExact(key)) return no("not a field name");
    }
    for (Py_ssize_t i = 0; i < node->n; i++) {
        item = PyDict_GetItemWithError(v, node->names[i]);
        if (item == NULL) {
            if (PyErr_Occurred()) return -1;
            if (nodes[node->kids[i]].op != FSF_NODE_OPT) return no("missing field");
            if (put_head(o, FSF_NIL, 0, 0) < 0) return -1;
            continue;
        }
        found++;
        Py_INCREF(item);  /* held while written, whatever a collection's finaliser might do meanwhile */
        int rc = write_value(o, nodes, node->kids[i], item, depth);
        Py_DECREF(item);
        if (rc < 0) return -1;
    }
    return found == PyDict_GET_SIZE(v) ? 0 : no("unknown field");
}

/* The fields of a record from an object of its bound class (exact type): each slot, in field order. An unset
 * slot (an attribute the object lacks) is refused, as is anything inside that the dict form would refuse. */
static int write_slots(Out *o, const Node *nodes, const Node *node, PyObject *v, const Py_ssize_t *offsets,
                       int depth) {
    for (Py_ssize_t i = 0; i < node->n; i++) {
        PyObject *item = *(PyObject **)((char *)v + offsets[i]);
        if (item == NULL) return no("missing attribute");
        Py_INCREF(item);  /* held while written, as in write_fields */
        int rc = write_value(o, nodes, node->kids[i], item, depth);
        Py_DECREF(item);
        if (rc < 0) return -1;
    }
    return 0;
}

/* One map entry, and what orders it. */
typedef struct {
    PyObject *key, *value;
    const char *s;
    Py_ssize_t n;
    Int v;
} Entry;

static int entry_str_cmp(const void *a, const void *b) {
    const Entry *x = a, *y = b;
    Py_ssize_t m = x->n < y->n ? x->n : y->n;
    int c = m ? memcmp(x->s, y->s, (size_t)m) : 0;
    return c ? c : (x->n > y->n) - (x->n < y->n);
}

static int entry_int_cmp(const void *a, const void *b) {
    const Entry *x = a, *y = b;
    return int_lt(&y->v, &x->v) - int_lt(&x->v, &y->v);
}

static int write_map(Out *o, const Node *nodes, const Node *node, PyObject *v, int depth) {
    if (!PyDict_CheckExact(v)) return no("not a dict");
    Py_ssize_t n = PyDict_GET_SIZE(v);
    if (n < node->lo || n > node->hi) return no("map bounds");
    const Node *key = &nodes[node->a];
    if (key->op != FSF_NODE_STR && key->op != FSF_NODE_INT && key->op != FSF_NODE_ENUM) return no("key type");
    Entry *entries = PyMem_Calloc((size_t)(n ? n : 1), sizeof(Entry));
    if (entries == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    int rc = -1;
    Py_ssize_t pos = 0, i = 0;
    PyObject *k, *item;
    while (PyDict_Next(v, &pos, &k, &item)) {
        if (i == n) {
            no("map changed");
            goto done;
        }
        Entry *e = &entries[i++];
        e->key = Py_NewRef(k);  /* held (with the UTF-8 of a str key) until written */
        e->value = Py_NewRef(item);
        if (key->op == FSF_NODE_STR) {
            if (!PyUnicode_CheckExact(k)) {
                no("not a str key");
                goto done;
            }
            Py_ssize_t cp = PyUnicode_GET_LENGTH(k);
            if (cp < key->lo || (key->hi >= 0 && cp > key->hi)) {
                no("str key bounds");
                goto done;
            }
            e->s = utf8_of(k, &e->n);
            if (e->s == NULL) goto done;
        } else if (key->op == FSF_NODE_INT) {
            if (int_of(k, &e->v) < 0) goto done;
            if (!int_le(&key->ilo, &e->v) || !int_le(&e->v, &key->ihi)) {
                no("int key bounds");
                goto done;
            }
        } else {
            Py_ssize_t index = member_index(o, nodes, node->a, k);
            if (index < 0) goto done;
            e->v.neg = 0;
            e->v.u = (uint64_t)index;
        }
    }
    qsort(entries, (size_t)n, sizeof(Entry), key->op == FSF_NODE_STR ? entry_str_cmp : entry_int_cmp);
    if (key->op == FSF_NODE_ENUM && o->cl != NULL) {
        /* A member and its name are two keys of the dict but one key of the map: the conversion to the Python
         * form would leave such a dict to the validator, which refuses it. (Exact str and int keys are distinct.) */
        for (i = 1; i < n; i++) {
            if (entries[i].v.u == entries[i - 1].v.u) {
                no("two keys name one member");
                goto done;
            }
        }
    }
    if (put_count(o, &MAP_FAMILY, (uint64_t)n) < 0) goto done;
    for (i = 0; i < n; i++) {
        Entry *e = &entries[i];
        if (key->op == FSF_NODE_STR) {
            if (put_str(o, e->s, e->n) < 0) goto done;
        } else if (put_int(o, &e->v) < 0) {
            goto done;
        }
        if (write_value(o, nodes, node->b, e->value, depth) < 0) goto done;
    }
    rc = 0;
done:
    for (Py_ssize_t j = 0; j < n; j++) {
        Py_XDECREF(entries[j].key);
        Py_XDECREF(entries[j].value);
    }
    PyMem_Free(entries);
    return rc;
}

static int write_value(Out *o, const Node *nodes, Py_ssize_t at, PyObject *v, int depth) {
    const Node *node = &nodes[at];
    switch (node->op) {
    case FSF_NODE_BOOL:
        if (v == Py_True) return put_head(o, FSF_TRUE, 0, 0);
        if (v == Py_False) return put_head(o, FSF_FALSE, 0, 0);
        return no("not a bool");
    case FSF_NODE_INT: {
        Int x;
        if (int_of(v, &x) < 0) return -1;
        if (!int_le(&node->ilo, &x) || !int_le(&x, &node->ihi)) return no("int bounds");
        return put_int(o, &x);
    }
    case FSF_NODE_TIME: {
        Int x;
        if (PyLong_CheckExact(v) ? int_of(v, &x) < 0 : time_of(v, &x) < 0) return -1;
        if (!int_le(&node->ilo, &x) || !int_le(&x, &node->ihi)) return no("time bounds");
        return put_int(o, &x);
    }
    case FSF_NODE_FLOAT:
        return write_float(o, node, v);
    case FSF_NODE_STR:
        return write_str(o, node, v);
    case FSF_NODE_BYTES: {
        if (!PyBytes_CheckExact(v)) return no("not bytes");
        Py_ssize_t n = PyBytes_GET_SIZE(v);
        if (n < node->lo || (node->hi >= 0 && n > node->hi)) return no("bytes bounds");
        if (put_count(o, &BIN_FAMILY, (uint64_t)n) < 0) return -1;
        return put(o, PyBytes_AS_STRING(v), (size_t)n);
    }
    case FSF_NODE_REF:
        return write_ref(o, v);
    case FSF_NODE_OPT:
        if (v == Py_None) return put_head(o, FSF_NIL, 0, 0);
        return write_value(o, nodes, node->a, v, depth);
    case FSF_NODE_ENUM: {
        Py_ssize_t index = member_index(o, nodes, at, v);
        if (index < 0) return -1;
        Int x = {0, 0, (uint64_t)index};
        return put_int(o, &x);
    }
    default:
        break;
    }
    /* Containers, one level each: a union's dict and its variant's dict are one msgpack array. */
    if (depth >= o->max_depth) return no("too deep");
    switch (node->op) {
    case FSF_NODE_ARR: {
        if (!PyList_CheckExact(v)) return no("not a list");
        Py_ssize_t n = PyList_GET_SIZE(v);
        if (n < node->lo || n > node->hi) return no("arr bounds");
        if (put_count(o, &ARR_FAMILY, (uint64_t)n) < 0) return -1;
        const Node *kind = &nodes[node->a];
        for (Py_ssize_t i = 0; i < n; i++) {
            if (PyList_GET_SIZE(v) != n) return no("list changed");
            PyObject *item = Py_NewRef(PyList_GET_ITEM(v, i));
            /* (an array of str, the commonest, skips the dispatch) */
            int rc = kind->op == FSF_NODE_STR ? write_str(o, kind, item) : write_value(o, nodes, node->a, item, depth + 1);
            Py_DECREF(item);
            if (rc < 0) return -1;
        }
        return 0;
    }
    case FSF_NODE_MAP:
        return write_map(o, nodes, node, v, depth + 1);
    case FSF_NODE_SHAPE:
        if (put_count(o, &ARR_FAMILY, (uint64_t)node->n) < 0) return -1;
        if (o->cl != NULL && Py_TYPE(v) == o->cl->cls[at]) {
            return write_slots(o, nodes, node, v, o->cl->offsets[at], depth + 1);
        }
        return write_fields(o, nodes, node, v, depth + 1);
    case FSF_NODE_UNION: {
        Py_ssize_t pos = 0;
        PyObject *name, *body;
        if (o->cl != NULL && !PyDict_CheckExact(v)) {  /* an object of one of its variants' classes */
            for (Py_ssize_t i = 0; i < node->n; i++) {
                Py_ssize_t kid = node->kids[i];
                if (Py_TYPE(v) != o->cl->cls[kid]) continue;
                const Node *variant = &nodes[kid];
                Int tag = {0, 0, (uint64_t)i};
                if (put_count(o, &ARR_FAMILY, (uint64_t)variant->n + 1) < 0 || put_int(o, &tag) < 0) return -1;
                return write_slots(o, nodes, variant, v, o->cl->offsets[kid], depth + 1);
            }
            return no("not a variant");
        }
        if (!PyDict_CheckExact(v) || PyDict_GET_SIZE(v) != 1 || !PyDict_Next(v, &pos, &name, &body)) {
            return no("not a one-key dict");
        }
        PyObject *index = PyUnicode_CheckExact(name) ? PyDict_GetItemWithError(node->lookup, name) : NULL;
        if (index == NULL) return PyErr_Occurred() ? -1 : no("not a variant");
        Py_ssize_t i = PyLong_AsSsize_t(index);
        const Node *variant = &nodes[node->kids[i]];
        Int tag = {0, 0, (uint64_t)i};
        if (put_count(o, &ARR_FAMILY, (uint64_t)variant->n + 1) < 0 || put_int(o, &tag) < 0) return -1;
        Py_INCREF(body);
        int rc = write_fields(o, nodes, variant, body, depth + 1);
        Py_DECREF(body);
        return rc;
    }
    default:
        return no("node");
    }
}

/* ---------------------------------------------------------------------------------------------------------- */
/* Program: the node table */

static void program_free(Node *nodes, Py_ssize_t count) {
    if (nodes == NULL) return;
    for (Py_ssize_t i = 0; i < count; i++) {
        PyMem_Free(nodes[i].kids);
        Py_XDECREF(nodes[i].lookup);
    }
    PyMem_Free(nodes);
}

/* An integer bound from a Python int in -2**63 .. 2**64 - 1. */
static int int_bound(PyObject *obj, Int *out) {
    int overflow = 0;
    long long s = PyLong_AsLongLongAndOverflow(obj, &overflow);
    if (s == -1 && PyErr_Occurred()) return -1;
    out->neg = 0;
    out->s = 0;
    out->u = 0;
    if (overflow == 0) {
        if (s < 0) {
            out->neg = 1;
            out->s = s;
        } else {
            out->u = (uint64_t)s;
        }
        return 0;
    }
    if (overflow < 0) {
        PyErr_SetString(PyExc_ValueError, "integer bound below -2**63");
        return -1;
    }
    unsigned long long u = PyLong_AsUnsignedLongLong(obj);
    if (u == (unsigned long long)-1 && PyErr_Occurred()) return -1;
    out->u = u;
    return 0;
}

static int float_bound(PyObject *obj, int *has, double *out) {
    *has = obj != Py_None;
    if (!*has) return 0;
    *out = PyFloat_AsDouble(obj);
    return (*out == -1.0 && PyErr_Occurred()) ? -1 : 0;
}

static int node_index(PyObject *obj, Py_ssize_t count, Py_ssize_t *out) {
    *out = PyLong_AsSsize_t(obj);
    if (*out == -1 && PyErr_Occurred()) return -1;
    if (*out < 0 || *out >= count) {
        PyErr_SetString(PyExc_ValueError, "node index out of range");
        return -1;
    }
    return 0;
}

/* SHAPE (names, kids), ENUM (names) and UNION (names, kids): the names must be str, the kids node indexes. */
static int names_and_kids(Node *node, PyObject *names, PyObject *kids, Py_ssize_t count) {
    if (!PyTuple_Check(names)) {
        PyErr_SetString(PyExc_TypeError, "names must be a tuple");
        return -1;
    }
    node->n = PyTuple_GET_SIZE(names);
    node->names = &PyTuple_GET_ITEM(names, 0);
    for (Py_ssize_t i = 0; i < node->n; i++) {
        if (!PyUnicode_CheckExact(node->names[i])) {
            PyErr_SetString(PyExc_TypeError, "names must be str");
            return -1;
        }
    }
    if (node->op != FSF_NODE_SHAPE) {  /* the encoder finds a member or variant by its name */
        node->lookup = PyDict_New();
        if (node->lookup == NULL) return -1;
        for (Py_ssize_t i = 0; i < node->n; i++) {
            PyObject *index = PyLong_FromSsize_t(i);
            int failed = index == NULL || PyDict_SetItem(node->lookup, node->names[i], index) < 0;
            Py_XDECREF(index);
            if (failed) return -1;
        }
    }
    if (kids == NULL) return 0;
    if (!PyTuple_Check(kids) || PyTuple_GET_SIZE(kids) != node->n) {
        PyErr_SetString(PyExc_TypeError, "kids must be a tuple as long as names");
        return -1;
    }
    node->kids = PyMem_Calloc((size_t)(node->n ? node->n : 1), sizeof(Py_ssize_t));
    if (node->kids == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t i = 0; i < node->n; i++) {
        if (node_index(PyTuple_GET_ITEM(kids, i), count, &node->kids[i]) < 0) return -1;
    }
    return 0;
}

static int parse_node(Node *node, PyObject *spec, Py_ssize_t count) {
    PyObject *x = NULL, *y = NULL, *z = NULL, *w = NULL;
    int op;
    if (!PyTuple_Check(spec) || !PyArg_ParseTuple(spec, "i|OOOO", &op, &x, &y, &z, &w)) {
        if (!PyErr_Occurred()) PyErr_SetString(PyExc_TypeError, "a node is a tuple (op, ...)");
        return -1;
    }
    node->op = op;
    node->hi = -1;
    switch (op) {
    case FSF_NODE_BOOL:
    case FSF_NODE_REF:
        return 0;
    case FSF_NODE_INT:
    case FSF_NODE_TIME:
        if (y == NULL) break;
        return int_bound(x, &node->ilo) < 0 || int_bound(y, &node->ihi) < 0 ? -1 : 0;
    case FSF_NODE_FLOAT:
        if (z == NULL) break;
        node->width = (int)PyLong_AsLong(x);
        if (node->width != 32 && node->width != 64) {
            if (!PyErr_Occurred()) PyErr_SetString(PyExc_ValueError, "float width is 32 or 64");
            return -1;
        }
        return float_bound(y, &node->has_flo, &node->flo) < 0 || float_bound(z, &node->has_fhi, &node->fhi) < 0
                   ? -1 : 0;
    case FSF_NODE_STR:
    case FSF_NODE_BYTES:
        if (y == NULL) break;
        node->lo = PyLong_AsSsize_t(x);
        node->hi = y == Py_None ? -1 : PyLong_AsSsize_t(y);
        return PyErr_Occurred() ? -1 : 0;
    case FSF_NODE_OPT:
        if (x == NULL) break;
        return node_index(x, count, &node->a);
    case FSF_NODE_ARR:
    case FSF_NODE_MAP:
        if (z == NULL || (op == FSF_NODE_MAP) != (w != NULL)) break;
        node->lo = PyLong_AsSsize_t(x);
        node->hi = PyLong_AsSsize_t(y);
        if (PyErr_Occurred()) return -1;
        if (node_index(z, count, &node->a) < 0) return -1;
        return op == FSF_NODE_MAP ? node_index(w, count, &node->b) : 0;
    case FSF_NODE_SHAPE:
    case FSF_NODE_UNION:
        if (y == NULL) break;
        return names_and_kids(node, x, y, count);
    case FSF_NODE_ENUM:
        if (x == NULL) break;
        return names_and_kids(node, x, NULL, count);
    default:
        break;
    }
    PyErr_Format(PyExc_ValueError, "malformed node of kind %d", op);
    return -1;
}

static int check_kinds(const Node *nodes, Py_ssize_t count) {
    /* Unions point at SHAPE nodes (their variants); counts are non-negative. */
    for (Py_ssize_t i = 0; i < count; i++) {
        const Node *node = &nodes[i];
        if ((node->op == FSF_NODE_ARR || node->op == FSF_NODE_MAP) && (node->lo < 0 || node->hi < node->lo)) goto bad;
        if ((node->op == FSF_NODE_STR || node->op == FSF_NODE_BYTES) && node->lo < 0) goto bad;
        if (node->op == FSF_NODE_UNION) {
            for (Py_ssize_t j = 0; j < node->n; j++) {
                if (nodes[node->kids[j]].op != FSF_NODE_SHAPE) goto bad;
            }
        }
    }
    return 0;
bad:
    PyErr_SetString(PyExc_ValueError, "malformed node table");
    return -1;
}

static int Program_init(Program *self, PyObject *args, PyObject *kwds) {
    PyObject *spec;
    int max_depth;
    static char *kwlist[] = {"nodes", "max_depth", NULL};
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O!i", kwlist, &PyTuple_Type, &spec, &max_depth)) return -1;
    if (max_depth < 1 || max_depth > FSF_MAX_DEPTH_LIMIT) {
        PyErr_SetString(PyExc_ValueError, "max_depth must be in 1.." STR(FSF_MAX_DEPTH_LIMIT));
        return -1;
    }
    if (self->nodes != NULL) {
        PyErr_SetString(PyExc_RuntimeError, "a Program is initialised once");
        return -1;
    }
    Py_ssize_t count = PyTuple_GET_SIZE(spec);
    Node *nodes = PyMem_Calloc((size_t)(count ? count : 1), sizeof(Node));
    if (nodes == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t i = 0; i < count; i++) {
        if (parse_node(&nodes[i], PyTuple_GET_ITEM(spec, i), count) < 0) {
            program_free(nodes, count);
            return -1;
        }
    }
    if (check_kinds(nodes, count) < 0) {
        program_free(nodes, count);
        return -1;
    }
    Py_INCREF(spec);
    self->spec = spec;
    self->nodes = nodes;
    self->count = count;
    self->max_depth = max_depth;
    return 0;
}

static void Program_dealloc(Program *self) {
    program_free(self->nodes, self->count);
    Py_XDECREF(self->spec);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyTypeObject ClassesType;

/* A Py_ssize_t argument (as PyArg_ParseTuple's "n"). */
static int ssize_arg(PyObject *obj, Py_ssize_t *out) {
    *out = PyNumber_AsSsize_t(obj, PyExc_OverflowError);
    return *out == -1 && PyErr_Occurred() ? -1 : 0;
}

/* A `classes` argument: None (NULL), or classes bound to this Program. */
static int classes_arg(Program *self, PyObject *obj, const Classes **out) {
    *out = NULL;
    if (obj == Py_None) return 0;
    if (!Py_IS_TYPE(obj, &ClassesType) || ((const Classes *)obj)->program != (PyObject *)self) {
        PyErr_SetString(PyExc_TypeError, "classes must be bound to this Program (Program.bind)");
        return -1;
    }
    *out = (const Classes *)obj;
    return 0;
}

/* decode(data, start, root, budget=no limit, classes=None) and check(data, start, root, budget=no limit):
 * METH_FASTCALL, so the fixed cost of a small value's call is as low as the interpreter allows. */
static PyObject *run_reader(Program *self, PyObject *const *args, Py_ssize_t nargs, int build) {
    Py_buffer buf;
    Py_ssize_t start, root, budget = PY_SSIZE_T_MAX;
    const Classes *cl = NULL;
    if (self->nodes == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "uninitialised Program");
        return NULL;
    }
    if (nargs < 3 || nargs > (build ? 5 : 4)) {
        PyErr_Format(PyExc_TypeError, "%s() takes from 3 to %d arguments (%zd given)", build ? "decode" : "check",
                     build ? 5 : 4, nargs);
        return NULL;
    }
    if (ssize_arg(args[1], &start) < 0 || ssize_arg(args[2], &root) < 0) return NULL;
    if (nargs > 3 && ssize_arg(args[3], &budget) < 0) return NULL;
    if (classes_arg(self, nargs > 4 ? args[4] : Py_None, &cl) < 0) return NULL;
    if (PyObject_GetBuffer(args[0], &buf, PyBUF_SIMPLE) < 0) return NULL;
    PyObject *out = NULL;
    if (start < 0 || start > buf.len || root < 0 || root >= self->count) {
        PyErr_SetString(PyExc_ValueError, "start or root out of range");
    } else if (budget < 0) {
        PyErr_SetString(PyExc_ValueError, "budget out of range");
    } else {
        Reader r = {(const unsigned char *)buf.buf, (const unsigned char *)buf.buf + start,
                    (const unsigned char *)buf.buf + buf.len, self->nodes, build, self->max_depth, budget, cl};
        out = read_value(&r, root, 0);
        if (out != NULL && r.p != r.end) {
            Py_CLEAR(out);
            refuse(&r, "trailing_bytes");
        }
    }
    PyBuffer_Release(&buf);
    return out;
}

static PyObject *Program_decode(Program *self, PyObject *const *args, Py_ssize_t nargs) {
    return run_reader(self, args, nargs, 1);
}

static PyObject *Program_check(Program *self, PyObject *const *args, Py_ssize_t nargs) {
    return run_reader(self, args, nargs, 0);
}

static PyObject *Program_encode(Program *self, PyObject *const *args, Py_ssize_t nargs) {
    Py_buffer prefix;
    Py_ssize_t root;
    const Classes *cl;
    if (self->nodes == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "uninitialised Program");
        return NULL;
    }
    if (nargs < 3 || nargs > 4) {
        PyErr_Format(PyExc_TypeError, "encode() takes from 3 to 4 arguments (%zd given)", nargs);
        return NULL;
    }
    PyObject *value = args[0];
    if (ssize_arg(args[1], &root) < 0 || classes_arg(self, nargs > 3 ? args[3] : Py_None, &cl) < 0) return NULL;
    if (PyObject_GetBuffer(args[2], &prefix, PyBUF_SIMPLE) < 0) return NULL;
    PyObject *result = NULL;
    Out o = {NULL, NULL, 0, 0, self->max_depth, cl};
    if (root < 0 || root >= self->count) {
        PyErr_SetString(PyExc_ValueError, "root out of range");
    } else if (reserve(&o, (size_t)prefix.len + 1) == 0 && put(&o, prefix.buf, (size_t)prefix.len) == 0 &&
               write_value(&o, self->nodes, root, value, 0) == 0 && _PyBytes_Resize(&o.bytes, (Py_ssize_t)o.len) == 0) {
        result = o.bytes;  /* (the resize frees it on failure) */
        o.bytes = NULL;
    }
    Py_XDECREF(o.bytes);
    PyBuffer_Release(&prefix);
    return result;
}

/* ---------------------------------------------------------------------------------------------------------- */
/* Classes: Program.bind */

static void Classes_dealloc(Classes *self) {
    for (Py_ssize_t i = 0; i < self->count; i++) {
        if (self->cls != NULL) Py_XDECREF(self->cls[i]);
        if (self->offsets != NULL) PyMem_Free(self->offsets[i]);
        if (self->members != NULL) Py_XDECREF(self->members[i]);
        if (self->by_address != NULL) PyMem_Free(self->by_address[i]);
    }
    PyMem_Free(self->cls);
    PyMem_Free(self->offsets);
    PyMem_Free(self->members);
    PyMem_Free(self->by_address);
    Py_XDECREF(self->program);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* The slot offsets of `names` in `cls`: each a writable object member of the class (or of a base of it). */
static Py_ssize_t *slot_offsets(PyTypeObject *cls, PyObject *names, Py_ssize_t n) {
    if (!PyTuple_Check(names) || PyTuple_GET_SIZE(names) != n) {
        PyErr_SetString(PyExc_ValueError, "a class needs one attribute name per field");
        return NULL;
    }
    Py_ssize_t *out = PyMem_Calloc((size_t)(n ? n : 1), sizeof(Py_ssize_t));
    if (out == NULL) {
        PyErr_NoMemory();
        return NULL;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *name = PyTuple_GET_ITEM(names, i);
        PyObject *descr = PyUnicode_Check(name) ? _PyType_Lookup(cls, name) : NULL;  /* borrowed */
        if (descr == NULL || !Py_IS_TYPE(descr, &PyMemberDescr_Type)) goto bad;
        PyMemberDef *m = ((PyMemberDescrObject *)descr)->d_member;
        if (m->type != T_OBJECT_EX || (m->flags & READONLY) || m->offset <= 0 ||
            !PyType_IsSubtype(cls, PyDescr_TYPE(descr))) goto bad;
        for (Py_ssize_t j = 0; j < i; j++) {
            if (out[j] == m->offset) goto bad;
        }
        out[i] = m->offset;
    }
    return out;
bad:
    PyMem_Free(out);
    PyErr_SetString(PyExc_ValueError, "each field must be a distinct writable slot of its class");
    return NULL;
}

static int member_cmp(const void *a, const void *b) {
    uintptr_t x = (uintptr_t)((const Member *)a)->member, y = (uintptr_t)((const Member *)b)->member;
    return (x > y) - (x < y);
}

/* The members of a tuple sorted by address, each with its index; NULL with an error when two are one object. */
static Member *by_address(PyObject *members) {
    Py_ssize_t n = PyTuple_GET_SIZE(members);
    Member *out = PyMem_Calloc((size_t)(n ? n : 1), sizeof(Member));
    if (out == NULL) {
        PyErr_NoMemory();
        return NULL;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        out[i].member = PyTuple_GET_ITEM(members, i);
        out[i].index = i;
    }
    qsort(out, (size_t)n, sizeof(Member), member_cmp);
    for (Py_ssize_t i = 1; i < n; i++) {
        if (out[i].member == out[i - 1].member) {
            PyMem_Free(out);
            PyErr_SetString(PyExc_ValueError, "each member must be a distinct object");
            return NULL;
        }
    }
    return out;
}

static PyObject *Program_bind(Program *self, PyObject *table) {
    if (self->nodes == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "uninitialised Program");
        return NULL;
    }
    if (!PyTuple_Check(table) || PyTuple_GET_SIZE(table) != self->count) {
        PyErr_SetString(PyExc_ValueError, "bind takes a tuple of one entry per node");
        return NULL;
    }
    Classes *cl = PyObject_New(Classes, &ClassesType);
    if (cl == NULL) return NULL;
    cl->count = self->count;
    cl->cls = PyMem_Calloc((size_t)(self->count ? self->count : 1), sizeof(PyTypeObject *));
    cl->offsets = PyMem_Calloc((size_t)(self->count ? self->count : 1), sizeof(Py_ssize_t *));
    cl->members = PyMem_Calloc((size_t)(self->count ? self->count : 1), sizeof(PyObject *));
    cl->by_address = PyMem_Calloc((size_t)(self->count ? self->count : 1), sizeof(Member *));
    Py_INCREF(self);
    cl->program = (PyObject *)self;
    if (cl->cls == NULL || cl->offsets == NULL || cl->members == NULL || cl->by_address == NULL) {
        Py_DECREF(cl);
        return PyErr_NoMemory();
    }
    for (Py_ssize_t i = 0; i < self->count; i++) {
        const Node *node = &self->nodes[i];
        PyObject *entry = PyTuple_GET_ITEM(table, i);
        if (node->op == FSF_NODE_SHAPE) {
            PyObject *cls = PyTuple_Check(entry) && PyTuple_GET_SIZE(entry) == 2 ? PyTuple_GET_ITEM(entry, 0) : NULL;
            if (cls == NULL || !PyType_Check(cls) || !(((PyTypeObject *)cls)->tp_flags & Py_TPFLAGS_HEAPTYPE) ||
                (((PyTypeObject *)cls)->tp_flags & Py_TPFLAGS_IS_ABSTRACT) || ((PyTypeObject *)cls)->tp_alloc == NULL) {
                PyErr_Format(PyExc_ValueError, "node %zd needs (class, attribute names)", i);
                goto fail;
            }
            cl->offsets[i] = slot_offsets((PyTypeObject *)cls, PyTuple_GET_ITEM(entry, 1), node->n);
            if (cl->offsets[i] == NULL) goto fail;
            Py_INCREF(cls);
            cl->cls[i] = (PyTypeObject *)cls;
        } else if (node->op == FSF_NODE_ENUM) {
            if (!PyTuple_Check(entry) || PyTuple_GET_SIZE(entry) != node->n) {
                PyErr_Format(PyExc_ValueError, "node %zd needs a tuple of its %zd members", i, node->n);
                goto fail;
            }
            Py_INCREF(entry);
            cl->members[i] = entry;
            cl->by_address[i] = by_address(entry);
            if (cl->by_address[i] == NULL) goto fail;
        } else if (entry != Py_None) {
            PyErr_Format(PyExc_ValueError, "node %zd takes no class", i);
            goto fail;
        }
    }
    return (PyObject *)cl;
fail:
    Py_DECREF(cl);
    return NULL;
}

static PyTypeObject ClassesType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "fsf.fsv._native.Classes",
    .tp_basicsize = sizeof(Classes),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "The classes a decode builds instead of dicts (Program.bind).",
    .tp_dealloc = (destructor)Classes_dealloc,
};

static PyMethodDef Program_methods[] = {
    {"decode", (PyCFunction)(void (*)(void))Program_decode, METH_FASTCALL,
     "decode(data, start, root, budget=no limit, classes=None): the Python form of the value of node `root` at\n"
     "data[start:] (to its end), of at most `budget` msgpack values; with `classes` (Program.bind), objects of\n"
     "those classes for shapes, variants and enums; fsf.errors.Refused for anything the reference reader would\n"
     "refuse."},
    {"check", (PyCFunction)(void (*)(void))Program_check, METH_FASTCALL,
     "check(data, start, root, budget=no limit): None when decode(data, start, root, budget) would succeed\n"
     "(it builds nothing); fsf.errors.Refused otherwise."},
    {"encode", (PyCFunction)(void (*)(void))Program_encode, METH_FASTCALL,
     "encode(value, root, prefix, classes=None): prefix + the canonical payload of `value` as node `root`;\n"
     "Refused for anything that is not valid in the exact types of the canonical Python form; with `classes`\n"
     "(Program.bind), objects of exactly those classes (read slot by slot) and their enum members are taken too."},
    {"bind", (PyCFunction)Program_bind, METH_O,
     "bind(table): the classes decode builds and encode reads (their `classes` argument): one entry per node,\n"
     "for a SHAPE node (class, attribute names in field order), for an ENUM node the tuple of its members, else\n"
     "None."},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject ProgramType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "fsf.fsv._native.Program",
    .tp_basicsize = sizeof(Program),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Program(nodes, max_depth): the node table of one schema (fsf.fsv.native.program builds it) and the\n"
              "nesting limit (fsf.limits.MAX_DEPTH).",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Program_init,
    .tp_dealloc = (destructor)Program_dealloc,
    .tp_methods = Program_methods,
};

static struct PyModuleDef native_module = {
    PyModuleDef_HEAD_INIT, "fsf.fsv._native", "The native FSV decoder (see fsf/fsv/native.py).", -1, NULL,
};

_Static_assert(FSF_MAX_DEPTH <= FSF_MAX_DEPTH_LIMIT, "fsf.limits.MAX_DEPTH is beyond what a Program takes");

PyMODINIT_FUNC PyInit__native(void) {
    if (Refused == NULL) {
        PyObject *errors = PyImport_ImportModule("fsf.errors");
        if (errors == NULL) return NULL;
        Refused = PyObject_GetAttrString(errors, "Refused");  /* held for the life of the process */
        Py_DECREF(errors);
        if (Refused == NULL) return NULL;
    }
    PyDateTime_IMPORT;
    if (PyDateTimeAPI == NULL) return NULL;
    timezone_type = Py_TYPE(PyDateTime_TimeZone_UTC);
    if (PyType_Ready(&ProgramType) < 0 || PyType_Ready(&ClassesType) < 0) return NULL;
    PyObject *m = PyModule_Create(&native_module);
    if (m == NULL) return NULL;
    Py_INCREF(&ProgramType);
    if (PyModule_AddObject(m, "Program", (PyObject *)&ProgramType) < 0) {
        Py_DECREF(&ProgramType);
        Py_DECREF(m);
        return NULL;
    }
    if (PyModule_AddStringConstant(m, "SOURCE_DIGEST", FSF_NATIVE_SOURCE_DIGEST) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
