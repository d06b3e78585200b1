// The test runner of api_process_test: the process-level acceptance tests of `keyledger serve`.
#define BOOST_TEST_MODULE api_process_test
#include <boost/test/unit_test.hpp>
