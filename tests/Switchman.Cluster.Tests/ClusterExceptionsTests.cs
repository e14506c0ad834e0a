using Switchman.Cluster;

namespace Switchman.Cluster.Tests;

/// <summary>What an admin API client reads in the 503 of a change whose outcome is unknown (the filter answers with the message).</summary>
public sealed class ClusterExceptionsTests
{
    [Fact]
    public void An_unknown_outcome_tells_the_client_to_look_before_it_sends_the_change_again_not_to_give_a_change_id_it_cannot_give()
    {
        var unknown = new ClusterOutcomeUnknownException("c-42", "leadership was lost while the change was replicated");

        Assert.Equal(
            "the outcome of change c-42 is unknown: leadership was lost while the change was replicated; "
            + "it may still be applied: read the configuration (switchman config get) before sending it again",
            unknown.Message);
        Assert.DoesNotContain("change id", unknown.Message, StringComparison.Ordinal);
    }
}
