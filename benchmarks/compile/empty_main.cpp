// Compile-time benchmark: the cost of parsing the whole library, with nothing instantiated.
#include <sinew/sinew.hpp>

int main() { return 0; }
