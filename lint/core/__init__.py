"""The framework-neutral engine: symbolic dims, abstract values, the parsed source and the
project's modules, the interpreter of the Python subset model code uses, and facts."""
