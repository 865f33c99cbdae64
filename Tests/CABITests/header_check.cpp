// The public header compiles as C++ and links from C++: every declaration has C linkage.
#include <ccorc.h>

int main() {
    ccorc_options options;
    ccorc_options_init(&options);
    ccorc_error error;
    error.code = CCORC_OK;
    return ccorc_version() != nullptr && error.code == CCORC_OK ? 0 : 1;
}
