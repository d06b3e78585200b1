#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <boost/asio/ssl.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/test/unit_test.hpp>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

#include "tests/http/transport/test_support.h"

namespace keyledger::http::testing {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace ssl = boost::asio::ssl;

using TlsClient = BasicTestClient<beast::ssl_stream<beast::tcp_stream>>;

// A throwaway P-256 key and self-signed certificate for localhost / 127.0.0.1, in a temp dir.
class SelfSignedCert {
 public:
  SelfSignedCert() {
    char pattern[] = "/tmp/keyledger-tls-XXXXXX";
    BOOST_REQUIRE(mkdtemp(pattern) != nullptr);
    dir_ = pattern;
    cert_file_ = (dir_ / "cert.pem").string();
    key_file_ = (dir_ / "key.pem").string();

    std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(EVP_EC_gen("P-256"), EVP_PKEY_free);
    BOOST_REQUIRE(key);
    std::unique_ptr<X509, decltype(&X509_free)> cert(X509_new(), X509_free);
    BOOST_REQUIRE(cert);
    X509_set_version(cert.get(), 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1);
    X509_gmtime_adj(X509_getm_notBefore(cert.get()), -60);
    X509_gmtime_adj(X509_getm_notAfter(cert.get()), 3600);
    X509_set_pubkey(cert.get(), key.get());
    X509_NAME* name = X509_get_subject_name(cert.get());
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("localhost"), -1, -1, 0);
    X509_set_issuer_name(cert.get(), name);
    X509V3_CTX context;
    X509V3_set_ctx_nodb(&context);
    X509V3_set_ctx(&context, cert.get(), cert.get(), nullptr, nullptr, 0);
    X509_EXTENSION* san =
        X509V3_EXT_conf_nid(nullptr, &context, NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1");
    BOOST_REQUIRE(san != nullptr);
    X509_add_ext(cert.get(), san, -1);
    X509_EXTENSION_free(san);
    BOOST_REQUIRE(X509_sign(cert.get(), key.get(), EVP_sha256()) > 0);

    FILE* cert_out = std::fopen(cert_file_.c_str(), "w");
    BOOST_REQUIRE(cert_out != nullptr);
    PEM_write_X509(cert_out, cert.get());
    std::fclose(cert_out);
    FILE* key_out = std::fopen(key_file_.c_str(), "w");
    BOOST_REQUIRE(key_out != nullptr);
    PEM_write_PrivateKey(key_out, key.get(), nullptr, nullptr, 0, nullptr, nullptr);
    std::fclose(key_out);
  }
  ~SelfSignedCert() {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  const std::string& cert_file() const { return cert_file_; }
  const std::string& key_file() const { return key_file_; }

 private:
  std::filesystem::path dir_;
  std::string cert_file_;
  std::string key_file_;
};

ServerOptions TlsOptions(const SelfSignedCert& cert) {
  ServerOptions options;
  options.tls_cert_file = cert.cert_file();
  options.tls_key_file = cert.key_file();
  return options;
}

// A client context that trusts exactly `cert` and checks the name.
ssl::context ClientContext(const SelfSignedCert& cert, int max_version = 0) {
  ssl::context context(ssl::context::tls_client);
  context.load_verify_file(cert.cert_file());
  context.set_verify_mode(ssl::verify_peer);
  if (max_version != 0) SSL_CTX_set_max_proto_version(context.native_handle(), max_version);
  return context;
}

boost::system::error_code Handshake(TlsClient& client, const asio::ip::tcp::endpoint& server) {
  if (auto ec = client.Connect(server)) return ec;
  client.stream().set_verify_callback(ssl::host_name_verification("localhost"));
  SSL_set_tlsext_host_name(client.stream().native_handle(), "localhost");
  boost::system::error_code result = asio::error::would_block;
  client.tcp().expires_after(kIoTimeout);
  client.stream().async_handshake(ssl::stream_base::client,
                                  [&](boost::system::error_code ec) { result = ec; });
  client.io().restart();
  client.io().run();
  return result;
}

BOOST_AUTO_TEST_SUITE(tls)

BOOST_AUTO_TEST_CASE(serves_requests_over_tls_1_3) {
  SelfSignedCert cert;
  TestHandler handler;
  TestServer server(handler, TlsOptions(cert));
  ssl::context context = ClientContext(cert);
  TlsClient client(context);
  const auto ec = Handshake(client, server.endpoint());
  BOOST_REQUIRE_MESSAGE(!ec, "handshake failed: " << ec.message());
  BOOST_TEST(SSL_version(client.stream().native_handle()) == TLS1_3_VERSION);

  for (const char* target : {"/one", "/two"}) {
    BOOST_REQUIRE(!client.Send(RawRequest("GET", target, "X-Request-Id: tls-1\r\n")));
    Response response;
    const auto read_ec = client.Read(response);
    BOOST_REQUIRE_MESSAGE(!read_ec, "read failed: " << read_ec.message());
    BOOST_TEST(response.result_int() == 200u);
    BOOST_TEST(response.body() == std::string("GET ") + target + "\n");
    BOOST_TEST(response["X-Request-Id"] == "tls-1");
  }
}

BOOST_AUTO_TEST_CASE(accepts_tls_1_2_clients) {
  SelfSignedCert cert;
  TestHandler handler;
  TestServer server(handler, TlsOptions(cert));
  ssl::context context = ClientContext(cert, TLS1_2_VERSION);
  TlsClient client(context);
  const auto ec = Handshake(client, server.endpoint());
  BOOST_REQUIRE_MESSAGE(!ec, "handshake failed: " << ec.message());
  BOOST_TEST(SSL_version(client.stream().native_handle()) == TLS1_2_VERSION);
  BOOST_REQUIRE(!client.Send(RawRequest("GET", "/v12", "Connection: close\r\n")));
  Response response;
  BOOST_REQUIRE(!client.Read(response));
  BOOST_TEST(response.body() == "GET /v12\n");
  BOOST_TEST(!response.keep_alive());
}

BOOST_AUTO_TEST_CASE(plain_http_on_the_tls_port_is_not_served) {
  SelfSignedCert cert;
  TestHandler handler;
  TestServer server(handler, TlsOptions(cert));
  TestClient client;
  ConnectOrFail(client, server.endpoint());
  BOOST_REQUIRE(!client.Send(RawRequest("GET", "/plain")));
  Response response;
  BOOST_TEST(client.Read(response));  // no HTTP response comes back
  BOOST_TEST(handler.handled() == 0u);
}

BOOST_AUTO_TEST_CASE(silent_client_is_dropped_at_the_handshake_deadline) {
  SelfSignedCert cert;
  TestHandler handler;
  ServerOptions options = TlsOptions(cert);
  options.read_timeout = std::chrono::milliseconds(200);
  options.keep_alive_timeout = std::chrono::seconds(60);  // must not be the one that applies
  TestServer server(handler, options);
  TestClient client;
  ConnectOrFail(client, server.endpoint());
  const auto ec = client.WaitForClose();  // never sends a ClientHello
  BOOST_TEST((ec == asio::error::eof || ec == asio::error::connection_reset),
             "expected the server to close, got: " << ec.message());
}

BOOST_AUTO_TEST_CASE(missing_certificate_is_reported_by_name) {
  TestHandler handler;
  asio::io_context io;
  ServerOptions options;
  options.tls_cert_file = "/nonexistent/cert.pem";
  options.tls_key_file = "/nonexistent/key.pem";
  try {
    HttpServer server(io, options, handler);
    BOOST_ERROR("a missing certificate was accepted");
  } catch (const std::system_error& e) {
    BOOST_TEST(std::string(e.what()).find("/nonexistent/cert.pem") != std::string::npos);
  }
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace keyledger::http::testing
