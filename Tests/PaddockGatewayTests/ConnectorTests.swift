import Foundation
import Glibc
import PaddockCore
import PaddockTestSupport
import Testing

/// The flagship connector (examples/wechat-dingtalk-connector) on a real
/// paddockd and gateway: its own tests (tests/test_connector.py) call it as
/// WeCom and DingTalk would, with messages encrypted and signed by the
/// documented algorithms through openssl, hashlib and hmac, its replies
/// checked against the tenant's flow, and its platform calls going to
/// dev/fake_platform.py.
@Suite(.serialized, .timeLimit(.minutes(5)))
struct ConnectorTests {
    static let folder = RunningGateway.example("wechat-dingtalk-connector")

    @Test func theConnectorsTestsPassAgainstTheGateway() throws {
        let fake = try Background(URL(fileURLWithPath: "/usr/bin/python3"), [Self.folder + "/dev/fake_platform.py"])
        defer { fake.stop() }
        let port = try #require(Int(fake.nextLine().trimmingCharacters(in: .whitespaces)))
        let plugin = "wechat-dingtalk-connector"
        let stack = try RunningGateway(options: ["--allow-host-port", "\(plugin)=\(port)"])
        try stack.activate("mini-llm")
        let base = "http://127.0.0.1:\(port)"
        let aesKey = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
        try stack.activate(plugin, settings: ["wecom_api_base=\(base)", "dingtalk_api_base=\(base)"])
        #expect(try stack.paddock("settings", plugin, "--public-endpoints", "true").status == 0)
        let tenant = try stack.paddock(
            ["settings", plugin, "--tenant", "acme", "--set", "corp_id=ww-test", "--set", "agent_id=1000002", "--set", "token=wecom-token",
             "--set", "encoding_aes_key=\(aesKey)", "--set", "corp_secret=corp-secret", "--set", "dingtalk_app_key=ding-test",
             "--set", "dingtalk_app_secret=ding-secret"])
        #expect(tenant.status == 0, "\(tenant.stderr)")
        let flow = try stack.paddock("flow", "put", Self.folder + "/flows/reply.yaml", "--tenant", "acme")
        #expect(flow.status == 0, "\(flow.stderr)")
        let key = try stack.key("--tenant", "acme")

        let run = try ProcessRunner.run(
            URL(fileURLWithPath: "/usr/bin/python3"), [Self.folder + "/tests/test_connector.py", "-v"],
            environment: [
                "PADDOCK_GATEWAY": "http://127.0.0.1:\(stack.port)", "PADDOCK_TENANT": "acme", "PADDOCK_KEY": key, "FAKE_PLATFORM": base,
                "CONNECTOR_AES_KEY": aesKey, "PATH": "/usr/bin:/bin",
            ])
        #expect(run.status == 0, "\(run.stderr)\n\(stack.daemonLog.suffix(3000))")
        #expect(run.stderr.contains("Ran 10 tests") && !run.stderr.contains("skipped"), "\(run.stderr)")

        // Another tenant's URL has none of acme's secrets: the same signed message is refused.
        let other = try stack.request("GET", "/t/other/e/\(plugin)/wecom/callback?msg_signature=x&timestamp=1&nonce=n&echostr=e")
        #expect(other.status != 200, "\(other.text)")
        #expect(try stack.request("GET", "/t/NOT_A_TENANT/e/\(plugin)/wecom/callback").status == 400)
    }
}
