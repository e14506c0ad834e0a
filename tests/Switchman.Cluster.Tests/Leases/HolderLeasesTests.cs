using Microsoft.Extensions.Time.Testing;
using Switchman.Cluster.Leases;

namespace Switchman.Cluster.Tests.Leases;

/// <summary>
/// The lease rules behind "never two holders" (docs/design/vips.md), on a fake clock: when a follower may hold under a
/// grant, and when the leader may give a VIP its old holder had to someone else.
/// </summary>
public sealed class HolderLeasesTests
{
    private static readonly TimeSpan Lease = TimeSpan.FromMilliseconds(200);

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));

    [Fact]
    public void A_grant_lasts_the_lease_from_when_the_ping_was_sent_not_from_when_the_answer_came()
    {
        var follower = new HolderLeases(_time, Lease, () => 0);
        var sent = _time.GetTimestamp();
        _time.Advance(TimeSpan.FromMilliseconds(100)); // a slow answer
        follower.Answered(sent, term: 4);

        Assert.True(follower.HoldsGrant());
        _time.Advance(Lease - TimeSpan.FromMilliseconds(101));
        Assert.True(follower.HoldsGrant());
        _time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.False(follower.HoldsGrant());
    }

    [Fact]
    public void A_grant_outlives_an_election_this_node_only_hears_of_and_an_answer_without_grant_gives_nothing()
    {
        var follower = new HolderLeases(_time, Lease, () => 0);
        follower.Answered(_time.GetTimestamp(), term: 0);
        Assert.False(follower.HoldsGrant());

        follower.Answered(_time.GetTimestamp(), term: 4);
        follower.LeaderObserved(null, 5, localNodeId: "n1");
        follower.LeaderObserved("n3", 5, localNodeId: "n1");
        Assert.True(follower.HoldsGrant());

        // The new leader's grant takes over from the old one.
        _time.Advance(TimeSpan.FromMilliseconds(150));
        follower.Answered(_time.GetTimestamp(), term: 5);
        _time.Advance(TimeSpan.FromMilliseconds(150));
        Assert.True(follower.HoldsGrant());
    }

    [Fact]
    public void Every_grant_is_void_once_this_node_leads_even_after_its_leadership_ends()
    {
        var node = new HolderLeases(_time, Lease, () => 0);
        node.Answered(_time.GetTimestamp(), term: 4);
        node.LeaderObserved("n1", 5, localNodeId: "n1");
        Assert.False(node.HoldsGrant());

        node.LeaderObserved("n2", 6, localNodeId: "n1");
        Assert.False(node.HoldsGrant()); // term 4's grant stays void: the leader of 6 may give n1's VIPs away at once
        node.Answered(_time.GetTimestamp(), term: 6);
        Assert.True(node.HoldsGrant());

        node.Leading(7); // seen by a look before the election event
        Assert.False(node.HoldsGrant());
    }

    [Fact]
    public void A_leadership_seen_with_the_next_term_does_not_void_that_term_s_grants()
    {
        // This node led term 2; by the time a look saw it leading, its term was already 3 (a vote request came in).
        var node = new HolderLeases(_time, Lease, () => 0);
        node.Leading(3);

        // Term 3's leader grants it: the grant counts (a node once kept a VIP from being held for a whole term).
        node.Answered(_time.GetTimestamp(), term: 3);
        Assert.True(node.HoldsGrant());
    }

    [Fact]
    public void The_leader_grants_only_while_it_may_and_not_to_a_revoked_peer_until_it_reports_the_release()
    {
        long term = 0;
        var leader = new HolderLeases(_time, Lease, () => term);
        Assert.Equal(0, leader.Answer("n2", report: 10));

        term = 7;
        leader.StartGranting(7, index: 0);
        Assert.Equal(7, leader.Answer("n2", report: 10));
        leader.Revoke("n2", releaseIndex: 12);
        Assert.Equal(0, leader.Answer("n2", report: 11));
        Assert.Equal(7, leader.Answer("n2", report: 12));
    }

    [Fact]
    public void A_new_leader_grants_nothing_before_it_caught_up_and_then_only_to_peers_that_applied_as_much()
    {
        // Found by the fault campaign (seed 14): n3's VIP had been moved away by the leader of term 12, which revoked n3;
        // n2, leading term 13, knew nothing of that revocation and granted n3, whose state (its link was losing packets)
        // still gave it the VIP: it added it while n1 held it.
        var leader = new HolderLeases(_time, Lease, () => 13);
        Assert.Equal(0, leader.Answer("n3", report: 40));

        leader.StartGranting(13, index: 50);
        Assert.Equal(0, leader.Answer("n3", report: 40));
        Assert.Equal(13, leader.Answer("n1", report: 50));
        Assert.Equal(13, leader.Answer("n3", report: 51));

        // Another term's start is not this one's.
        leader.StartGranting(12, index: 0);
        Assert.Equal(0, leader.Answer("n2", report: 49));
    }

    [Fact]
    public void A_released_vip_may_go_elsewhere_once_its_old_holder_reports_the_release_or_its_last_grant_surely_ended()
    {
        var leader = new HolderLeases(_time, Lease, () => 7);
        leader.LeaderObserved("n1", 7, localNodeId: "n1");
        leader.StartGranting(7, index: 0);
        _time.Advance(TimeSpan.FromSeconds(1));
        leader.Answer("n2", report: 10);
        leader.Revoke("n2", releaseIndex: 12);

        Assert.False(leader.SurelyReleased("n2", 12, currentTerm: 7, localNodeId: "n1"));
        _time.Advance(leader.WaitAfterLastGrant - TimeSpan.FromMilliseconds(1));
        Assert.False(leader.SurelyReleased("n2", 12, 7, "n1"));
        _time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.True(leader.SurelyReleased("n2", 12, 7, "n1"));

        // Or at once, when it says it let go.
        leader.Answer("n3", report: 10);
        leader.Revoke("n3", releaseIndex: 13);
        Assert.False(leader.SurelyReleased("n3", 13, 7, "n1"));
        leader.Answer("n3", report: 13);
        Assert.True(leader.SurelyReleased("n3", 13, 7, "n1"));
        Assert.True(WaitAfterLastGrantCoversDrift(leader));
    }

    [Fact]
    public void A_new_leader_waits_a_whole_lease_for_a_holder_an_earlier_leader_may_have_granted_but_not_for_its_predecessor()
    {
        var node = new HolderLeases(_time, Lease, () => 8);
        node.LeaderObserved("n2", 7, localNodeId: "n1");
        _time.Advance(TimeSpan.FromSeconds(5));
        node.LeaderObserved("n1", 8, localNodeId: "n1");

        // n2 led term 7, the term just before: it dropped its grants when it began to lead, and only n1 led since.
        Assert.True(node.SurelyReleased("n2", 20, currentTerm: 8, localNodeId: "n1"));
        // n3 may still hold a grant n2 sent just before it lost its lease: a whole lease from this leader's start.
        Assert.False(node.SurelyReleased("n3", 20, 8, "n1"));
        _time.Advance(node.WaitAfterLastGrant);
        Assert.True(node.SurelyReleased("n3", 20, 8, "n1"));
    }

    [Fact]
    public void A_holder_that_may_keep_a_singleton_past_its_lease_is_surely_released_only_that_much_later_its_report_still_counts_at_once()
    {
        var extra = TimeSpan.FromSeconds(1);
        var node = new HolderLeases(_time, Lease, () => 8);
        node.LeaderObserved("n2", 7, localNodeId: "n1");
        _time.Advance(TimeSpan.FromSeconds(5));
        node.LeaderObserved("n1", 8, localNodeId: "n1");
        node.StartGranting(8, index: 0);

        // The predecessor's lease ended before this leader began; its singleton may run for the grace after that.
        Assert.False(node.SurelyReleased("n2", 20, currentTerm: 8, localNodeId: "n1", extra));
        _time.Advance(extra);
        Assert.True(node.SurelyReleased("n2", 20, 8, "n1", extra));

        node.Answer("n3", report: 10);
        node.Revoke("n3", releaseIndex: 21);
        _time.Advance(node.WaitAfterLastGrant);
        Assert.True(node.SurelyReleased("n3", 21, 8, "n1"));
        Assert.False(node.SurelyReleased("n3", 21, 8, "n1", extra));
        _time.Advance(extra);
        Assert.True(node.SurelyReleased("n3", 21, 8, "n1", extra));

        node.Answer("n4", report: 10);
        node.Answer("n4", report: 22);
        Assert.True(node.SurelyReleased("n4", 22, 8, "n1", extra));
    }

    [Fact]
    public void A_predecessor_this_leader_granted_since_keeps_a_singleton_a_whole_lease_and_the_grace_after_the_last_grant()
    {
        // Found by the fault campaign (seed 22): n2 led term 7, n1 leads term 8 and granted n2, a follower now, which held
        // the VIP and ran its singleton. n2 froze; n1 gave the VIP (and the singleton) away 1 s after its last grant,
        // while n2's guard kills the singleton 1 s after n2's lease (200 ms from its last ping) ended: both ran for ~0.2 s.
        var extra = TimeSpan.FromSeconds(1);
        var term = 6L;
        var node = new HolderLeases(_time, Lease, () => term);
        // n1 led term 6 and granted n2 then: a grant n2 voided when it led term 7, which must not count now.
        node.LeaderObserved("n1", 6, localNodeId: "n1");
        node.StartGranting(6, index: 0);
        Assert.Equal(6, node.Answer("n2", report: 5));
        _time.Advance(TimeSpan.FromSeconds(5));
        node.LeaderObserved("n2", 7, localNodeId: "n1");
        _time.Advance(TimeSpan.FromSeconds(5));
        term = 8;
        node.LeaderObserved("n1", 8, localNodeId: "n1");

        // Not granted in this term yet: the grace after this leader began (n2's leader lease had ended by then).
        Assert.True(node.SurelyReleased("n2", 20, currentTerm: 8, localNodeId: "n1"));
        Assert.False(node.SurelyReleased("n2", 20, 8, "n1", extra));

        _time.Advance(TimeSpan.FromSeconds(5));
        node.StartGranting(8, index: 0);
        Assert.Equal(8, node.Answer("n2", report: 10));
        // Granted in this term: the grace alone after the last grant is not enough, the lease that grant gave comes first.
        _time.Advance(extra);
        Assert.True(node.SurelyReleased("n2", 20, currentTerm: 8, localNodeId: "n1"));
        Assert.False(node.SurelyReleased("n2", 20, 8, "n1", extra));
        _time.Advance(node.WaitAfterLastGrant);
        Assert.True(node.SurelyReleased("n2", 20, 8, "n1", extra));
    }

    [Fact]
    public void A_leader_elected_after_a_term_without_a_known_leader_waits_for_its_predecessor_too()
    {
        var node = new HolderLeases(_time, Lease, () => 9);
        node.LeaderObserved("n2", 7, localNodeId: "n1");
        node.LeaderObserved("n1", 9, localNodeId: "n1");

        // Term 8 may have had a leader this node never heard of, which may have granted n2.
        Assert.False(node.SurelyReleased("n2", 20, currentTerm: 9, localNodeId: "n1"));
        _time.Advance(node.WaitAfterLastGrant);
        Assert.True(node.SurelyReleased("n2", 20, 9, "n1"));
    }

    [Fact]
    public void This_node_has_let_go_of_a_vip_once_its_own_keeper_caught_up_with_the_release()
    {
        var node = new HolderLeases(_time, Lease, () => 3) { Report = 4 };
        Assert.False(node.SurelyReleased("n1", 5, 3, "n1"));
        node.Report = 5;
        Assert.True(node.SurelyReleased("n1", 5, 3, "n1"));
    }

    /// <summary>A holder whose clock runs slow by the drift bound still lets go before the leader's wait ends.</summary>
    private static bool WaitAfterLastGrantCoversDrift(HolderLeases leases) =>
        leases.WaitAfterLastGrant >= leases.Duration * (1 + HolderLeases.ClockDriftBound);
}
