// The one translation unit that compiles Asio's SSL non-template code (callbacks over https).
#include <boost/asio/ssl/impl/src.hpp>
