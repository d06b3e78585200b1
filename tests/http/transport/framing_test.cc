#define BOOST_TEST_MODULE http_transport
#include "http/framing.h"

#include <boost/beast/http/message.hpp>
#include <boost/test/unit_test.hpp>
#include <initializer_list>
#include <ostream>
#include <string>
#include <utility>

namespace keyledger::http {

std::ostream& operator<<(std::ostream& out, FramingProblem problem) {
  return out << static_cast<int>(problem);
}

namespace {

namespace bhttp = boost::beast::http;

// A header with `fields` after "Host: test" (left out when `with_host` is false).
bhttp::request_header<> Header(std::initializer_list<std::pair<std::string, std::string>> fields,
                               unsigned version = 11, bool with_host = true) {
  bhttp::request_header<> header;
  header.method(bhttp::verb::post);
  header.target("/v1/keys/verify");
  header.version(version);
  if (with_host) header.insert(bhttp::field::host, "test");
  for (const auto& [name, value] : fields) header.insert(name, value);
  return header;
}

BOOST_AUTO_TEST_SUITE(framing)

BOOST_AUTO_TEST_CASE(accepts_no_body_content_length_and_chunked) {
  BOOST_TEST(CheckFraming(Header({})) == FramingProblem::kNone);
  BOOST_TEST(CheckFraming(Header({{"Content-Length", "0"}})) == FramingProblem::kNone);
  BOOST_TEST(CheckFraming(Header({{"Content-Length", "65536"}})) == FramingProblem::kNone);
  BOOST_TEST(CheckFraming(Header({{"Transfer-Encoding", "chunked"}})) == FramingProblem::kNone);
  BOOST_TEST(CheckFraming(Header({{"Transfer-Encoding", "Chunked"}})) == FramingProblem::kNone);
  BOOST_TEST(CheckFraming(Header({{"transfer-encoding", "CHUNKED"}})) == FramingProblem::kNone);
  BOOST_TEST(CheckFraming(Header({{"Content-Length", "12"}}, 10)) == FramingProblem::kNone);
}

BOOST_AUTO_TEST_CASE(rejects_transfer_encoding_with_content_length) {
  BOOST_TEST(CheckFraming(Header({{"Transfer-Encoding", "chunked"}, {"Content-Length", "5"}})) ==
             FramingProblem::kContentLengthWithTransferEncoding);
  BOOST_TEST(CheckFraming(Header({{"Content-Length", "5"}, {"Transfer-Encoding", "chunked"}})) ==
             FramingProblem::kContentLengthWithTransferEncoding);
  // The shape Beast 1.81 itself lets through: a non-chunked coding next to a length.
  BOOST_TEST(CheckFraming(Header({{"Transfer-Encoding", "gzip"}, {"Content-Length", "5"}})) ==
             FramingProblem::kContentLengthWithTransferEncoding);
}

BOOST_AUTO_TEST_CASE(rejects_every_transfer_encoding_but_chunked) {
  for (const char* value : {"gzip, chunked", "chunked, chunked", "xchunked", "chunkedx",
                            "chunked;q=1", "gzip", "identity", "chunked, gzip", ""}) {
    BOOST_TEST_CONTEXT("Transfer-Encoding: " << value) {
      BOOST_TEST(CheckFraming(Header({{"Transfer-Encoding", value}})) ==
                 FramingProblem::kUnsupportedTransferEncoding);
    }
  }
}

BOOST_AUTO_TEST_CASE(rejects_repeated_transfer_encoding) {
  BOOST_TEST(
      CheckFraming(Header({{"Transfer-Encoding", "gzip"}, {"Transfer-Encoding", "chunked"}})) ==
      FramingProblem::kMultipleTransferEncoding);
  BOOST_TEST(
      CheckFraming(Header({{"Transfer-Encoding", "chunked"}, {"Transfer-Encoding", "chunked"}})) ==
      FramingProblem::kMultipleTransferEncoding);
}

BOOST_AUTO_TEST_CASE(rejects_chunked_on_http_1_0) {
  BOOST_TEST(CheckFraming(Header({{"Transfer-Encoding", "chunked"}}, 10)) ==
             FramingProblem::kChunkedOnHttp10);
  // Any other coding on 1.0 is rejected as unsupported first.
  BOOST_TEST(CheckFraming(Header({{"Transfer-Encoding", "gzip"}}, 10)) ==
             FramingProblem::kUnsupportedTransferEncoding);
}

BOOST_AUTO_TEST_CASE(rejects_repeated_content_length_even_when_equal) {
  BOOST_TEST(CheckFraming(Header({{"Content-Length", "5"}, {"Content-Length", "5"}})) ==
             FramingProblem::kMultipleContentLength);
  BOOST_TEST(CheckFraming(Header({{"Content-Length", "5"}, {"Content-Length", "6"}})) ==
             FramingProblem::kMultipleContentLength);
}

BOOST_AUTO_TEST_CASE(rejects_content_length_that_is_not_one_decimal) {
  for (const char* value : {"5, 5", "+5", "-1", "0x10", "5 5", "", "five"}) {
    BOOST_TEST_CONTEXT("Content-Length: " << value) {
      BOOST_TEST(CheckFraming(Header({{"Content-Length", value}})) ==
                 FramingProblem::kInvalidContentLength);
    }
  }
}

BOOST_AUTO_TEST_CASE(http_1_1_needs_exactly_one_host) {
  BOOST_TEST(CheckFraming(Header({}, 11, false)) == FramingProblem::kMissingHost);
  BOOST_TEST(CheckFraming(Header({{"Host", "other"}})) == FramingProblem::kMultipleHost);
  BOOST_TEST(CheckFraming(Header({{"Host", "test"}})) == FramingProblem::kMultipleHost);
  // HTTP/1.0 predates Host: it may leave it out, but not send two.
  BOOST_TEST(CheckFraming(Header({}, 10, false)) == FramingProblem::kNone);
  BOOST_TEST(CheckFraming(Header({{"Host", "other"}}, 10)) == FramingProblem::kMultipleHost);
  // An empty Host is what RFC 9112 asks of a client whose target has no authority: accepted.
  BOOST_TEST(CheckFraming(Header({{"host", ""}}, 11, false)) == FramingProblem::kNone);
}

BOOST_AUTO_TEST_CASE(every_problem_has_a_sentence) {
  BOOST_TEST(DescribeFramingProblem(FramingProblem::kNone).empty());
  for (auto problem :
       {FramingProblem::kContentLengthWithTransferEncoding, FramingProblem::kMultipleContentLength,
        FramingProblem::kInvalidContentLength, FramingProblem::kMultipleTransferEncoding,
        FramingProblem::kUnsupportedTransferEncoding, FramingProblem::kChunkedOnHttp10,
        FramingProblem::kMissingHost, FramingProblem::kMultipleHost}) {
    const auto sentence = DescribeFramingProblem(problem);
    BOOST_TEST(!sentence.empty());
    BOOST_TEST(sentence.back() == '.');
  }
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace keyledger::http
