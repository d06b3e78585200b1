#include "http/tls_context.h"

#include <openssl/ssl.h>

#include <stdexcept>
#include <system_error>

namespace keyledger::http {
namespace {

namespace ssl = boost::asio::ssl;

[[noreturn]] void Fail(const boost::system::error_code& ec, const std::string& what) {
  throw std::system_error(std::error_code(ec), what);
}

}  // namespace

std::unique_ptr<ssl::context> MakeServerTlsContext(const std::string& cert_chain_file,
                                                   const std::string& private_key_file) {
  auto context = std::make_unique<ssl::context>(ssl::context::tls_server);
  boost::system::error_code ec;
  context->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                           ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                           ssl::context::no_tlsv1_1 | ssl::context::no_compression |
                           ssl::context::single_dh_use,
                       ec);
  if (ec) Fail(ec, "cannot configure TLS");
  SSL_CTX* native = context->native_handle();
  if (SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION) != 1) {
    throw std::runtime_error("cannot set the minimum TLS version to 1.2");
  }
  // Renegotiation is a known DoS lever and nothing here needs it.
  SSL_CTX_set_options(native, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);

  context->use_certificate_chain_file(cert_chain_file, ec);
  if (ec) Fail(ec, "cannot load TLS certificate chain '" + cert_chain_file + "'");
  context->use_private_key_file(private_key_file, ssl::context::pem, ec);
  if (ec) Fail(ec, "cannot load TLS private key '" + private_key_file + "'");
  if (SSL_CTX_check_private_key(native) != 1) {
    throw std::system_error(std::make_error_code(std::errc::invalid_argument),
                            "TLS private key '" + private_key_file +
                                "' does not match certificate '" + cert_chain_file + "'");
  }
  return context;
}

}  // namespace keyledger::http
