using Switchman.Core.Configuration;

namespace Switchman.Core.Tests;

public class HostPortTests
{
    [Theory]
    [InlineData("127.0.0.1:8080", "127.0.0.1", 8080)]
    [InlineData("[::1]:80", "::1", 80)]
    [InlineData("api.local:5000", "api.local", 5000)]
    [InlineData("*:0", "*", 0)]
    public void TryParse_ValidAddress_ReturnsHostAndPort(string text, string host, int port)
    {
        Assert.True(HostPort.TryParse(text, out var parsed, out _));
        Assert.Equal(new HostPort(host, port), parsed);
    }

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("127.0.0.1:99999")]
    [InlineData("::1:80")]
    [InlineData(":80")]
    [InlineData("")]
    public void TryParse_InvalidAddress_ExplainsWhy(string text)
    {
        Assert.False(HostPort.TryParse(text, out _, out var error));
        Assert.False(string.IsNullOrEmpty(error));
    }
}
