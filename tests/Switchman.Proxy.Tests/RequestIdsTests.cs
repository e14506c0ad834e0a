using Switchman.Proxy.Forwarding;

namespace Switchman.Proxy.Tests;

public class RequestIdsTests
{
    [Fact]
    public void Next_ManyIds_Are32HexDigits_AndAllDifferent()
    {
        var ids = Enumerable.Range(0, 10_000).Select(_ => RequestIds.Next()).ToList();

        Assert.All(ids, id => Assert.Matches("^[0-9a-f]{32}$", id));
        Assert.Equal(ids.Count, ids.Distinct().Count());
    }
}
