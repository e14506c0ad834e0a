using System.Net;
using System.Net.Security;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using Switchman.Core.Configuration;
using Switchman.DemoBackend;
using Switchman.Testing;
using Xunit.Abstractions;

namespace Switchman.FunctionalTests;

/// <summary>What crosses the proxy: headers, TLS with SNI, HTTP/2, WebSockets, and the access log.</summary>
public class ProtocolTests(ITestOutputHelper output) : IAsyncLifetime
{
    private DemoBackendServer _backend = null!;

    public async Task InitializeAsync() =>
        _backend = await DemoBackendServer.StartAsync(new DemoBackendOptions { Name = "a" }, CancellationToken.None);

    public async Task DisposeAsync() => await _backend.DisposeAsync();

    private BackendConfig Backend => TestConfig.Backend(("a", _backend.BaseAddress.Authority));

    [Fact]
    public async Task ForwardedHeaders_AndGeneratedRequestId_ReachTheBackend()
    {
        await using var node = await SwitchmanTestNode.StartAsync(TestConfig.Single(Backend), output);
        using var client = node.CreateFrontendClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v3/projects");
        request.Headers.Host = "keystone.example.test";
        request.Headers.TryAddWithoutValidation("X-Forwarded-For", "203.0.113.7");

        using var response = await client.SendAsync(request);

        var seen = _backend.ReceivedRequests.Single();
        Assert.Equal("203.0.113.7, 127.0.0.1", seen.Header("X-Forwarded-For"));
        Assert.Equal("http", seen.Header("X-Forwarded-Proto"));
        Assert.Equal("keystone.example.test", seen.Header("X-Forwarded-Host"));
        Assert.Equal("keystone.example.test", seen.Header("Host"));
        var requestId = seen.Header("X-Request-Id");
        Assert.Matches("^[0-9a-f]{32}$", requestId);
        Assert.Equal(requestId, response.Headers.GetValues("X-Request-Id").Single());
    }

    [Fact]
    public async Task RequestId_FromClient_IsPassedThrough()
    {
        await using var node = await SwitchmanTestNode.StartAsync(TestConfig.Single(Backend), output);
        using var client = node.CreateFrontendClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/x");
        request.Headers.Add("X-Request-Id", "req-from-client-42");

        using var response = await client.SendAsync(request);

        Assert.Equal("req-from-client-42", _backend.ReceivedRequests.Single().Header("X-Request-Id"));
        Assert.Equal("req-from-client-42", response.Headers.GetValues("X-Request-Id").Single());
    }

    [Fact]
    public async Task AccessLog_KeepsTheQueryString_UnlessTold_AndSaysWhyTheProxyAnsweredAnErrorItself()
    {
        using var dir = new TempDirectory();
        var withQuery = Path.Combine(dir.Path, "with.log");
        var without = Path.Combine(dir.Path, "without.log");
        var noRoute = new FrontendConfig { Name = "web", Listen = "127.0.0.1:0", Routes = ValueList.Create(new RouteConfig { Path = "/v3", Backend = Backend.Name }) };
        foreach (var (file, query) in new[] { (withQuery, true), (without, false) })
        {
            await using var node = await SwitchmanTestNode.StartAsync(TestConfig.Single(Backend, noRoute) with { AccessLog = new AccessLogConfig { Path = file, Query = query } }, output);
            using var client = node.CreateFrontendClient();
            (await client.GetAsync("/v3/users?name=admin")).EnsureSuccessStatusCode().Dispose();
            using var missing = await client.GetAsync("/nowhere?x=1");
            Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        }

        var lines = File.ReadAllLines(withQuery).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(("/v3/users", "?name=admin"), (lines[0].GetProperty("path").GetString(), lines[0].GetProperty("query").GetString()));
        Assert.False(lines[0].TryGetProperty("reason", out _));
        Assert.Equal((404, "no route matches this host and path"), (lines[1].GetProperty("status").GetInt32(), lines[1].GetProperty("reason").GetString()));
        Assert.All(File.ReadAllLines(without).Select(l => JsonDocument.Parse(l).RootElement), line => Assert.False(line.TryGetProperty("query", out _)));
        Assert.DoesNotContain("admin", File.ReadAllText(without), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ErrorsTheProxyAnswersItself_AreNeutralByDefault_OrTheOperatorsPage()
    {
        using var dir = new TempDirectory();
        var page = dir.WriteFile("503.json", "{\"error\": {\"code\": {status}, \"title\": \"Service Unavailable\", \"message\": \"try again (request {request_id})\"}}");
        var down = TestConfig.Backend(("a", "127.0.0.1:9")) with { Health = TestConfig.FastHealth with { Initial = InitialHealth.Down } };
        var plain = new FrontendConfig { Name = "web", Listen = "127.0.0.1:0", DefaultBackend = "api" };
        var paged = plain with { Name = "paged", ErrorPages = ValueList.Create(new ErrorPageConfig { Status = 503, File = page }) };
        await using var node = await SwitchmanTestNode.StartAsync(new SwitchmanConfig { Frontends = ValueList.Create(plain, paged), Backends = ValueList.Create(down) }, output);

        using var client = node.CreateFrontendClient();
        using var neutral = await client.GetAsync("/x");
        var text = await neutral.Content.ReadAsStringAsync();
        var requestId = neutral.Headers.GetValues("X-Request-Id").Single();
        Assert.Equal(HttpStatusCode.ServiceUnavailable, neutral.StatusCode);
        Assert.Equal($"503 Service Unavailable\nrequest id: {requestId}\n", text);
        Assert.Equal("text/plain", neutral.Content.Headers.ContentType!.MediaType);

        using var pagedClient = node.CreateFrontendClient("paged");
        using var custom = await pagedClient.GetAsync("/x");
        var json = JsonDocument.Parse(await custom.Content.ReadAsStringAsync()).RootElement.GetProperty("error");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, custom.StatusCode);
        Assert.Equal("application/json", custom.Content.Headers.ContentType!.MediaType);
        Assert.Equal(503, json.GetProperty("code").GetInt32());
        Assert.Equal($"try again (request {custom.Headers.GetValues("X-Request-Id").Single()})", json.GetProperty("message").GetString());
    }

    [Fact]
    public async Task AccessLog_WritesOneJsonLinePerRequest()
    {
        using var dir = new TempDirectory();
        var logPath = Path.Combine(dir.Path, "access.log");
        var config = TestConfig.Single(Backend) with { AccessLog = new AccessLogConfig { Path = logPath } };
        byte[] body;
        await using (var node = await SwitchmanTestNode.StartAsync(config, output))
        {
            using var client = node.CreateFrontendClient();
            using var request = new HttpRequestMessage(HttpMethod.Post, "/orders") { Content = new StringContent("{}") };
            request.Headers.Add("X-Request-Id", "log-me-1");
            using var response = (await client.SendAsync(request)).EnsureSuccessStatusCode();
            body = await response.Content.ReadAsByteArrayAsync();
        }

        var line = JsonDocument.Parse(File.ReadAllLines(logPath).Single()).RootElement;
        Assert.Equal("127.0.0.1", line.GetProperty("client").GetString());
        Assert.Equal("web", line.GetProperty("frontend").GetString());
        Assert.Equal("api", line.GetProperty("backend").GetString());
        Assert.Equal("a", line.GetProperty("server").GetString());
        Assert.Equal("POST", line.GetProperty("method").GetString());
        Assert.Equal("/orders", line.GetProperty("path").GetString());
        Assert.Equal(200, line.GetProperty("status").GetInt32());
        Assert.Equal(1, line.GetProperty("attempts").GetInt32());
        Assert.Equal(body.Length, line.GetProperty("bytes").GetInt64());
        Assert.Equal("log-me-1", line.GetProperty("request_id").GetString());
        Assert.True(line.GetProperty("duration_ms").GetDouble() > 0);
        Assert.True(line.TryGetProperty("time", out _));
    }

    [Fact]
    public async Task Tls_SniPicksCertificate_AndHttp2IsNegotiated()
    {
        using var dir = new TempDirectory();
        var alpha = WriteCertificate(dir.Path, "alpha.test");
        var beta = WriteCertificate(dir.Path, "beta.test");
        var frontend = new FrontendConfig
        {
            Name = "web",
            Listen = "127.0.0.1:0",
            DefaultBackend = "api",
            Tls = new TlsConfig { Certificates = ValueList.Create(alpha, beta) },
        };
        await using var node = await SwitchmanTestNode.StartAsync(TestConfig.Single(Backend, frontend), output);
        var url = node.FrontendUrl();
        Assert.Equal("https", url.Scheme);

        Assert.Equal("CN=alpha.test", await PresentedSubjectAsync(url, "alpha.test"));
        Assert.Equal("CN=beta.test", await PresentedSubjectAsync(url, "beta.test"));
        Assert.Equal("CN=alpha.test", await PresentedSubjectAsync(url, "unknown.test")); // the first is the default

        using var client = new HttpClient(new SocketsHttpHandler
        {
            SslOptions = new SslClientAuthenticationOptions { TargetHost = "beta.test", RemoteCertificateValidationCallback = (_, _, _, _) => true },
        })
        { DefaultRequestVersion = HttpVersion.Version20, DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact };
        using var response = await client.GetAsync(url);
        Assert.Equal(HttpVersion.Version20, response.Version);
        Assert.Equal("https", _backend.ReceivedRequests.Last().Header("X-Forwarded-Proto"));
    }

    [Fact]
    public async Task WebSocket_IsPassedThrough()
    {
        await using var node = await SwitchmanTestNode.StartAsync(TestConfig.Single(Backend), output);
        var url = new UriBuilder(node.FrontendUrl()) { Scheme = "ws", Path = "/ws" }.Uri;
        using var socket = new ClientWebSocket();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));

        await socket.ConnectAsync(url, timeout.Token);
        await socket.SendAsync(Encoding.UTF8.GetBytes("hello through the proxy"), WebSocketMessageType.Text, true, timeout.Token);
        var buffer = new byte[1024];
        var received = await socket.ReceiveAsync(buffer, timeout.Token);
        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", timeout.Token);

        Assert.Contains("hello through the proxy", Encoding.UTF8.GetString(buffer, 0, received.Count), StringComparison.Ordinal);
    }

    private static async Task<string> PresentedSubjectAsync(Uri url, string sni)
    {
        using var tcp = new System.Net.Sockets.TcpClient();
        await tcp.ConnectAsync(url.Host, url.Port);
        string? subject = null;
        await using var tls = new SslStream(tcp.GetStream(), false, (_, certificate, _, _) =>
        {
            subject = certificate?.Subject;
            return true;
        });
        await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = sni });
        return subject!;
    }

    /// <summary>A self-signed certificate for one host name, written as PEM files the node loads.</summary>
    private static CertificateConfig WriteCertificate(string directory, string host)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest($"CN={host}", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName(host);
        request.CertificateExtensions.Add(san.Build());
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        var certPath = Path.Combine(directory, $"{host}.crt");
        var keyPath = Path.Combine(directory, $"{host}.key");
        File.WriteAllText(certPath, certificate.ExportCertificatePem());
        File.WriteAllText(keyPath, key.ExportPkcs8PrivateKeyPem());
        return new CertificateConfig { Cert = certPath, Key = keyPath };
    }
}
