# Writes IN as a C++ raw string literal to OUT.
file(READ ${IN} content)
file(WRITE ${OUT} "R\"cowwatch_yaml(${content})cowwatch_yaml\"")
