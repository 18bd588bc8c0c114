"""Front end: .fsf text -> parse tree -> AST -> checked IR (and the canonical layout)."""
