// The one translation unit that compiles Boost.JSON (header-only use of Debian's 1.81 headers).
// Do not include <boost/json/src.hpp> anywhere else: every target links sbx_sys and gets it here.
#include <boost/json/src.hpp>
