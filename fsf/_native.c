/* Native: FSV payload bytes -> the canonical Python form, in one pass (placeholder while the decoder lands). */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#ifndef FSF_NATIVE_SOURCE_DIGEST
#define FSF_NATIVE_SOURCE_DIGEST ""
#endif

static struct PyModuleDef native_module = {
    PyModuleDef_HEAD_INIT, "fsf._native", "FSV native decoder.", -1, NULL,
};

PyMODINIT_FUNC PyInit__native(void) {
    PyObject *m = PyModule_Create(&native_module);
    if (m == NULL) return NULL;
    if (PyModule_AddStringConstant(m, "SOURCE_DIGEST", FSF_NATIVE_SOURCE_DIGEST) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
