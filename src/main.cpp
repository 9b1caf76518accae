// pysandbox: wiring only — config → log → spawner → engine → server → signals.
#include <cstdio>
#include <string_view>

int main(int argc, char** argv) {
    std::string_view cmd = argc > 1 ? argv[1] : "";
    if (cmd == "version") {
        std::printf("pysandbox %s\n", SBX_VERSION);
        return 0;
    }
    std::fprintf(stderr, "usage: pysandbox serve|run|selftest|version\n");
    return 2;
}
