// The public header compiles as C++ and links from C++: every declaration has C linkage.
#include <ccorc.h>

int main() {
    ccorc_options options;
    ccorc_options_init(&options);
    ccorc_cleanup_options cleanup;
    ccorc_cleanup_options_init(&cleanup);
    ccorc_import_options import;
    ccorc_import_options_init(&import);
    ccorc_error error;
    error.code = CCORC_OK;
    // Every function, so that a declaration without its definition fails to link.
    void (*const functions[])() = {
        reinterpret_cast<void (*)()>(&ccorc_version), reinterpret_cast<void (*)()>(&ccorc_status_name),
        reinterpret_cast<void (*)()>(&ccorc_free), reinterpret_cast<void (*)()>(&ccorc_options_init),
        reinterpret_cast<void (*)()>(&ccorc_launch_options_init), reinterpret_cast<void (*)()>(&ccorc_cleanup_options_init),
        reinterpret_cast<void (*)()>(&ccorc_import_options_init), reinterpret_cast<void (*)()>(&ccorc_open),
        reinterpret_cast<void (*)()>(&ccorc_close), reinterpret_cast<void (*)()>(&ccorc_list_sessions),
        reinterpret_cast<void (*)()>(&ccorc_session_info), reinterpret_cast<void (*)()>(&ccorc_launch),
        reinterpret_cast<void (*)()>(&ccorc_resume), reinterpret_cast<void (*)()>(&ccorc_stop),
        reinterpret_cast<void (*)()>(&ccorc_health), reinterpret_cast<void (*)()>(&ccorc_cleanup),
        reinterpret_cast<void (*)()>(&ccorc_export), reinterpret_cast<void (*)()>(&ccorc_import),
        reinterpret_cast<void (*)()>(&ccorc_recover), reinterpret_cast<void (*)()>(&ccorc_list_containers),
        reinterpret_cast<void (*)()>(&ccorc_watch), reinterpret_cast<void (*)()>(&ccorc_watch_stop),
    };
    for (void (*function)() : functions) {
        if (function == nullptr) return 1;
    }
    return ccorc_version() != nullptr && error.code == CCORC_OK && cleanup.size == sizeof cleanup && import.size == sizeof import ? 0 : 1;
}
