// The runner of cli_test: the offline compliance subcommands (verify-log, replay, audit, review,
// backup), each run as the real `keyledger` binary against databases built in temp directories.
#define BOOST_TEST_MODULE cli_test
#include <boost/test/unit_test.hpp>
