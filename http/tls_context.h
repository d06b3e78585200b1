#pragma once
// Server-side TLS settings: TLS 1.2 minimum, 1.3 enabled, no compression, no renegotiation.

#include <boost/asio/ssl/context.hpp>
#include <memory>
#include <string>

namespace keyledger::http {

// Loads a PEM certificate chain and its private key. Throws std::system_error naming the file when
// either cannot be loaded or they do not match.
[[nodiscard]] std::unique_ptr<boost::asio::ssl::context> MakeServerTlsContext(
    const std::string& cert_chain_file, const std::string& private_key_file);

}  // namespace keyledger::http
