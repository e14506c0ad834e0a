using Switchman.Client;
using Switchman.Testing;

namespace Switchman.CliTests;

/// <summary>Where the CLI finds the endpoint and token: flag, environment, client configuration file, default.</summary>
public sealed class ClientSettingsTests : IDisposable
{
    private readonly TempDirectory _directory = new("switchman-client-settings");

    public void Dispose() => _directory.Dispose();

    [Fact]
    public void Resolve_NothingGiven_DefaultEndpointAndNoToken()
    {
        var settings = AdminClientSettings.Resolve(Sources());

        Assert.Equal(new Uri("http://127.0.0.1:9090/"), settings.Endpoint);
        Assert.Null(settings.Token);
    }

    [Fact]
    public void Resolve_FlagsWinOverEnvironmentAndFile()
    {
        var file = _directory.WriteFile("client.yaml", "endpoint: http://file:1\ntoken: from-file\n");

        var settings = AdminClientSettings.Resolve(Sources(
            new() { ["SWITCHMAN_ENDPOINT"] = "http://env:2", ["SWITCHMAN_TOKEN"] = "from-env" }) with
        {
            Endpoint = "http://flag:3",
            Token = "from-flag",
            ClientConfigFile = file,
        });

        Assert.Equal(new Uri("http://flag:3/"), settings.Endpoint);
        Assert.Equal("from-flag", settings.Token);
    }

    [Fact]
    public void Resolve_EnvironmentWinsOverTheFile_WhichFillsWhatIsMissing()
    {
        _directory.WriteFile("switchman/client.yaml", "endpoint: http://file:1\ntoken: from-file\n");

        var settings = AdminClientSettings.Resolve(Sources(new() { ["SWITCHMAN_ENDPOINT"] = "env:2" }));

        Assert.Equal(new Uri("http://env:2/"), settings.Endpoint);
        Assert.Equal("from-file", settings.Token);
    }

    [Fact]
    public void Resolve_DefaultFileUnderHomeDotConfig_WhenXdgConfigHomeIsUnset()
    {
        _directory.WriteFile(".config/switchman/client.yaml", "endpoint: https://lb1:9443\n");

        var settings = AdminClientSettings.Resolve(new ClientSettingsSources
        {
            Environment = name => name == "HOME" ? _directory.Path : null,
        });

        Assert.Equal(new Uri("https://lb1:9443/"), settings.Endpoint);
    }

    [Fact]
    public void Resolve_ExplicitFileMissing_Throws()
    {
        var missing = _directory.Combine("nope.yaml");

        var e = Assert.Throws<ClientConfigException>(() => AdminClientSettings.Resolve(Sources() with { ClientConfigFile = missing }));

        Assert.StartsWith(missing + ": cannot read", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Resolve_MalformedEndpoint_SaysWhereItCameFrom()
    {
        var e = Assert.Throws<ClientConfigException>(() => AdminClientSettings.Resolve(Sources(new() { ["SWITCHMAN_ENDPOINT"] = "ftp://x" })));

        Assert.StartsWith("SWITCHMAN_ENDPOINT: 'ftp://x' is not an admin endpoint", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("127.0.0.1:9090", "http://127.0.0.1:9090/")]
    [InlineData("http://10.0.0.5:9090", "http://10.0.0.5:9090/")]
    [InlineData("https://lb1:9443/base", "https://lb1:9443/base/")]
    [InlineData(" lb1:9090 ", "http://lb1:9090/")]
    public void ParseEndpoint_UrlOrHostPort(string text, string expected)
    {
        var settings = new AdminClientSettings(AdminClientSettings.ParseEndpoint(text));

        Assert.Equal(new Uri(expected), settings.Endpoint);
    }

    [Fact]
    public void ClientConfigFile_TokenFile_IsRelativeToTheFile_AndTrimmed()
    {
        _directory.WriteFile("secrets/admin.token", "  s3cret\n");
        var path = _directory.WriteFile("client.yaml", "token_file: secrets/admin.token\n");

        Assert.Equal(new ClientConfigFile(null, "s3cret"), ClientConfigFile.Load(path));
    }

    [Theory]
    [InlineData("endpoint: x\ntokn: y\n", ":2:1: unknown key 'tokn': expected endpoint, token, token_file")]
    [InlineData("token: a\ntoken_file: b\n", ":2:13: token and token_file: give one or the other")]
    [InlineData("- endpoint\n", ":1:1: expected a map with endpoint, token or token_file")]
    [InlineData("endpoint: [a]\n", ":1:11: endpoint: expected a string")]
    [InlineData("token_file: missing.token\n", ":1:13: token_file: cannot read ")]
    [InlineData("endpoint: 'x\n", ":1:11: ")]
    public void ClientConfigFile_Invalid_NamesFileLineAndColumn(string yaml, string expected)
    {
        var path = _directory.WriteFile("client.yaml", yaml);

        var e = Assert.Throws<ClientConfigException>(() => ClientConfigFile.Load(path));

        Assert.StartsWith(path + expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ClientConfigFile_Empty_SetsNothing()
    {
        Assert.Equal(new ClientConfigFile(null, null), ClientConfigFile.Load(_directory.WriteFile("client.yaml", "")));
    }

    /// <summary>Sources with only <paramref name="variables"/> set, and XDG_CONFIG_HOME at the test's folder.</summary>
    private ClientSettingsSources Sources(Dictionary<string, string>? variables = null) => new()
    {
        Environment = name => name == "XDG_CONFIG_HOME" ? _directory.Path : variables?.GetValueOrDefault(name),
    };
}
