namespace Switchman.Core.Configuration;

/// <summary>
/// A floating virtual IP address: held by one load-balancer node at a time, decided with quorum, moved when its holder
/// fails (keepalived's <c>virtual_ipaddress</c>, Pacemaker's <c>IPaddr2</c>). Part of the shared configuration.
/// </summary>
public sealed record VipConfig
{
    /// <summary>For the CLI, events and metrics.</summary>
    public required string Name { get; init; }

    /// <summary>The address with its prefix length, such as <c>192.0.2.10/24</c> or <c>2001:db8::10/64</c>.</summary>
    public required string Address { get; init; }

    /// <summary>The network interface the address is added to on the node that holds it.</summary>
    public required string Interface { get; init; }

    /// <summary>Node ids in order of preference; empty: any load-balancer node.</summary>
    public ValueList<string> Nodes { get; init; } = ValueList<string>.Empty;

    /// <summary>
    /// False (the default, keepalived's <c>nopreempt</c>): a VIP that moved stays where it is when a more preferred node
    /// returns. True: it moves back to the most preferred node that can hold it.
    /// </summary>
    public bool Preempt { get; init; }

    /// <summary>VIPs that share a pool name are spread evenly over the nodes that can hold them (active/active, for DNS
    /// round robin over the pool's addresses); null: a VIP of its own.</summary>
    public string? Pool { get; init; }
}

/// <summary>
/// This node's own interface for a VIP, where it differs from the VIP's <c>interface</c> (one node's NIC is
/// <c>eno1</c>, another's <c>ens3</c>). Node-local, in the top-level <c>vip_interfaces:</c> map (VIP name → interface).
/// </summary>
public sealed record VipInterfaceConfig
{
    public required string Vip { get; init; }

    public required string Interface { get; init; }
}
