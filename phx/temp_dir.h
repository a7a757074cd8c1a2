// A private (0700) scratch directory under $TMPDIR for one run, removed with everything in it
// when the object goes out of scope, on success, error and forwarded-signal paths alike.
#pragma once

#include <string>

namespace phx {

class TempDir {
public:
    TempDir();  // throws PhxError(kExitVmFailed) when mkdtemp fails
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    const std::string& path() const { return m_path; }
    std::string file(const std::string& name) const { return m_path + "/" + name; }

private:
    std::string m_path;
};

}  // namespace phx
