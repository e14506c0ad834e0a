using System.Net;

namespace Switchman.Testing.Netns;

/// <summary>
/// One machine of a <see cref="NetworkLab"/>: a network namespace with <c>lo</c> and <c>eth0</c> (a TEST-NET-1
/// address), cabled to a port of the lab's switch.
/// </summary>
/// <param name="Name">Its short name in the test, e.g. "n1".</param>
/// <param name="Namespace">Its network namespace.</param>
/// <param name="Address">The address of its eth0, e.g. 192.0.2.11.</param>
/// <param name="SwitchPort">The bridge-side end of its cable, in the switch's namespace: what power-off takes down.</param>
public sealed record LabHost(string Name, NetworkNamespace Namespace, IPAddress Address, string SwitchPort)
{
    /// <summary>Address and port, e.g. 192.0.2.11:7000.</summary>
    public IPEndPoint EndPoint(int port) => new(Address, port);

    /// <summary>"192.0.2.11:7000", as a configuration file wants it.</summary>
    public string HostPort(int port) => EndPoint(port).ToString();

    /// <summary>A handler whose connections start on this host, to reach the others over the switch, or this host itself
    /// through its own loopback route (a console on the machine: works while it is powered off).</summary>
    public SocketsHttpHandler CreateHttpHandler() => Namespace.CreateHttpHandler();

    public override string ToString() => $"{Name} ({Address})";
}
