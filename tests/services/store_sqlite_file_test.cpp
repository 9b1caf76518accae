// The SQLite file at start: made 0600 in a 0700 STATE_DIR; a damaged or read-only file is a
// clear error that names it, and the file is left exactly as it was.
#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "store_fixture.h"

namespace sbx::testing {
namespace {

std::string slurp(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

store::StoreOptions sqlite_at(const std::filesystem::path& dir) {
    store::StoreOptions o;
    o.state_dir = dir;
    return o;
}

// A store with one key in it, closed (WAL checkpointed into the main file).
void make_store_with_a_key(const std::filesystem::path& dir) {
    auto s = store::open_store(sqlite_at(dir));
    ASSERT_TRUE(s) << s.error().render();
    store::KeyRecord k;
    k.id = "kept";
    k.name = "must survive";
    k.key_hash = std::string(32, 'h');
    ASSERT_TRUE(s->repository->create_key(k));
}

TEST(SqliteFile, StateDirIs0700AndTheFile0600) {
    TempDir tmp;
    auto dir = tmp.path() / "nested" / "state";
    make_store_with_a_key(dir);
    struct stat st {};
    ASSERT_EQ(::stat(dir.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0700u);
    ASSERT_EQ(::stat((dir / store::kSqliteFile).c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST(SqliteFile, ADamagedFileIsRefusedAndLeftAsItWas) {
    TempDir tmp;
    make_store_with_a_key(tmp.path());
    const auto file = tmp.path() / store::kSqliteFile;
    {
        std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
        f.seekp(0);
        f << "this is not the SQLite header at all";  // the header and schema page
    }
    const auto before = slurp(file);
    auto opened = store::open_store(sqlite_at(tmp.path()));
    ASSERT_FALSE(opened);
    EXPECT_EQ(opened.error().code, store::StoreErrc::corrupt) << opened.error().render();
    EXPECT_NE(opened.error().message.find(file.string()), std::string::npos)
        << opened.error().message;
    EXPECT_EQ(slurp(file), before) << "the damaged file was changed";
    EXPECT_FALSE(std::filesystem::exists(file.string() + "-wal") &&
                 std::filesystem::file_size(file.string() + "-wal") > 0);
}

TEST(SqliteFile, AFileThatIsNoDatabaseIsRefused) {
    TempDir tmp;
    const auto file = tmp.path() / store::kSqliteFile;
    std::ofstream(file) << std::string(8192, 'x');
    auto opened = store::open_store(sqlite_at(tmp.path()));
    ASSERT_FALSE(opened);
    EXPECT_EQ(opened.error().code, store::StoreErrc::corrupt) << opened.error().render();
    EXPECT_EQ(slurp(file), std::string(8192, 'x'));
}

// In a child with its own mount namespace: the store's tmpfs remounted read-only. Exit status
// 0 = the open failed as read_only and the data is intact; the message goes to the pipe.
int child_read_only(const std::filesystem::path& dir, int out) {
    auto say = [&](const std::string& s) { (void)!::write(out, s.data(), s.size()); };
    if (::unshare(CLONE_NEWNS) != 0 ||
        ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
        ::mount("tmpfs", dir.c_str(), "tmpfs", 0, "size=16m,mode=0700") != 0) {
        say("mount setup failed");
        return 10;
    }
    make_store_with_a_key(dir / "state");
    if (::mount(nullptr, dir.c_str(), nullptr, MS_REMOUNT | MS_RDONLY, nullptr) != 0) {
        say("remount ro failed");
        return 11;
    }
    const auto file = dir / "state" / store::kSqliteFile;
    const auto before = slurp(file);
    auto opened = store::open_store(sqlite_at(dir / "state"));
    if (opened) {
        say("opened a read-only store");
        return 12;
    }
    say(opened.error().render());
    if (opened.error().code != store::StoreErrc::read_only) return 13;
    return slurp(file) == before && before.size() > 0 ? 0 : 14;
}

TEST(SqliteFile, AReadOnlyFileSystemIsAClearError) {
    TempDir tmp;
    int pipefd[2];
    ASSERT_EQ(::pipe(pipefd), 0);
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        ::close(pipefd[0]);
        ::_exit(child_read_only(tmp.path(), pipefd[1]));
    }
    ::close(pipefd[1]);
    std::string message;
    char buf[512];
    for (ssize_t n; (n = ::read(pipefd[0], buf, sizeof buf)) > 0;)
        message.append(buf, static_cast<std::size_t>(n));
    ::close(pipefd[0]);
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0) << message;
    EXPECT_NE(message.find("read_only"), std::string::npos) << message;
    EXPECT_NE(message.find(store::kSqliteFile), std::string::npos) << message;
}

}  // namespace
}  // namespace sbx::testing
