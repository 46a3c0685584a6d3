// EtcdLog's HTTP transport: etcd refuses a malformed request with a chunked error reply and keeps
// the connection open; the client reads that reply at once and does not retry it.
#include <gtest/gtest.h>

#include <thread>

#include "ledger/etcd_cluster.hpp"
#include "ledger/etcd_log.hpp"
#include "net/http_client.hpp"
#include "net/test_server.hpp"

namespace pfex::ledger {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// A stand-in member that answers every request with etcd's chunked 400 and never closes.
net::testing::CannedServer refusing_member() {
  return net::testing::CannedServer(
      "HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\n"
      "Grpc-Metadata-Content-Type: application/grpc\r\nTransfer-Encoding: chunked\r\n\r\n"
      "3a\r\n{\"error\":\"etcdserver: bad request\",\"code\":3,\"message\":\"x\"}\r\n0\r\n\r\n");
}

TEST(EtcdTransport, AChunkedRefusalFailsAtOnceAndIsNotRetried) {
  auto member = refusing_member();
  EtcdLog::Options options;
  options.endpoints = {member.endpoint()};
  auto log = EtcdLog::open(options);
  ASSERT_TRUE(log.is_ok());
  const auto start = Clock::now();
  auto appended = (*log)->append(Bytes{1, 2, 3});
  ASSERT_FALSE(appended.is_ok());
  EXPECT_EQ(appended.status().code(), ErrorCode::kInvalidArgument) << appended.status().to_string();
  EXPECT_NE(appended.status().message().find("HTTP 400"), std::string_view::npos);
  EXPECT_LT(Clock::now() - start, 2s) << "the refusal was not read promptly";
  EXPECT_EQ(member.requests(), 1);
}

// The same with a real member: a malformed request gets etcd's own chunked refusal, promptly.
TEST(EtcdTransport, RealEtcdRefusalIsReadPromptly) {
  testing::EtcdCluster cluster;
  Status started = cluster.start();
  ASSERT_TRUE(started.is_ok()) << started.to_string();
  auto client = net::HttpClient::open(cluster.endpoints()[0]);
  ASSERT_TRUE(client.is_ok());
  for (int i = 0; i < 3; ++i) {  // and the connection stays usable
    const auto start = Clock::now();
    auto reply = client->request("POST", "/v3/kv/range", "{\"key\": 12", "application/json", 10s);
    ASSERT_TRUE(reply.is_ok()) << reply.status().to_string();
    EXPECT_GE(reply->status, 400);
    EXPECT_LT(reply->status, 500);
    EXPECT_NE(reply->body.find("error"), std::string::npos) << reply->body;
    EXPECT_LT(Clock::now() - start, 2s);
  }
  auto fine =
      client->request("POST", "/v3/kv/range", "{\"key\": \"eA==\"}", "application/json", 10s);
  ASSERT_TRUE(fine.is_ok()) << fine.status().to_string();
  EXPECT_EQ(fine->status, 200);
}

}  // namespace
}  // namespace pfex::ledger
