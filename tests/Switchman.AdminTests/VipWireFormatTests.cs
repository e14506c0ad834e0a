using System.Net;
using System.Net.Sockets;
using Switchman.Core.Configuration;
using Switchman.Vips;

namespace Switchman.AdminTests;

/// <summary>
/// The bytes a VIP's takeover puts on the wire: the rtnetlink requests (in the machine's byte order: these expect a
/// little-endian machine, as every one .NET runs Linux on is) and the announcement frames (network order), each
/// written out field by field from the kernel headers and RFCs rather than from the code under test.
/// </summary>
public sealed class VipWireFormatTests
{
    private static readonly VipAddress Vip4 = new(IPAddress.Parse("192.0.2.200"), 24);
    private static readonly VipAddress Vip6 = new(IPAddress.Parse("2001:db8::200"), 64);
    private static readonly byte[] Mac = [0x02, 0x00, 0x5e, 0x10, 0x20, 0x30];

    [Fact]
    public void Adding_an_ipv4_address_is_newaddr_with_create_excl_ack_and_local_and_address_attributes()
    {
        Assert.Equal(Hex(
            "28000000 1400 0506 07000000 00000000", // nlmsghdr: 40 bytes, RTM_NEWADDR, REQUEST|ACK|EXCL|CREATE, seq 7, pid 0
            "02 18 00 00 03000000", // ifaddrmsg: AF_INET, /24, no flags, universe scope, link 3
            "0800 0200 c00002c8", // IFA_LOCAL 192.0.2.200
            "0800 0100 c00002c8"), // IFA_ADDRESS 192.0.2.200
            RtnetlinkRequest.AddAddress(7, 3, Vip4));
    }

    [Fact]
    public void Adding_an_ipv6_address_skips_duplicate_address_detection()
    {
        Assert.Equal(Hex(
            "40000000 1400 0506 01000000 00000000",
            "0a 40 02 00 02000000", // AF_INET6, /64, IFA_F_NODAD, link 2
            "1400 0200 20010db8000000000000000000000200",
            "1400 0100 20010db8000000000000000000000200"),
            RtnetlinkRequest.AddAddress(1, 2, Vip6));
    }

    [Fact]
    public void Removing_an_address_is_deladdr_with_ack_only()
    {
        Assert.Equal(Hex(
            "28000000 1500 0500 02000000 00000000", // RTM_DELADDR, REQUEST|ACK
            "02 18 00 00 03000000",
            "0800 0200 c00002c8",
            "0800 0100 c00002c8"),
            RtnetlinkRequest.RemoveAddress(2, 3, Vip4));
    }

    [Fact]
    public void A_link_is_looked_up_by_its_name_padded_to_four_bytes()
    {
        Assert.Equal(Hex(
            "2c000000 1200 0500 09000000 00000000", // 44 bytes, RTM_GETLINK, REQUEST|ACK
            "00 00 0000 00000000 00000000 00000000", // ifinfomsg: any family, index 0
            "0900 0300 65746830 00 000000"), // IFLA_IFNAME "eth0\0", then padding
            RtnetlinkRequest.Link(9, "eth0"));
    }

    [Fact]
    public void Addresses_are_dumped_by_family()
    {
        Assert.Equal(Hex("18000000 1600 0103 04000000 00000000", "0a 00 00 00 00000000"), RtnetlinkRequest.Addresses(4, ipv6: true));
    }

    [Fact]
    public void A_reply_is_split_into_messages_and_read()
    {
        var datagram = Hex(
            // RTM_NEWLINK for link 5 with IFLA_IFNAME "eth0" and IFLA_ADDRESS
            "38000000 1000 0000 09000000 00000000",
            "00 00 0100 05000000 43100100 00000000",
            "0900 0300 65746830 00 000000",
            "0a00 0100 02005e102030 0000",
            // NLMSG_ERROR -19 (ENODEV) for sequence 10
            "24000000 0200 0000 0a000000 00000000",
            "edffffff 10000000 1200 0500 0a000000 00000000");
        var messages = NetlinkMessage.Split(datagram);

        Assert.Equal(2, messages.Count);
        Assert.Equal((ushort)16, messages[0].Type);
        Assert.Equal(9u, messages[0].Sequence);
        var (index, mac) = messages[0].Link();
        Assert.Equal(5, index);
        Assert.Equal(Mac, mac);
        Assert.Equal(NetlinkMessage.Error, messages[1].Type);
        Assert.Equal(10u, messages[1].Sequence);
        Assert.Equal(19, messages[1].ErrorNumber);
    }

    [Theory]
    [InlineData("02 18 80 00 03000000", true)] // IFA_F_PERMANENT and the rest: flags do not matter
    [InlineData("02 18 00 00 04000000", false)] // another link
    [InlineData("02 19 00 00 03000000", false)] // another prefix length
    public void An_address_of_a_dump_is_the_vip_on_the_link_with_its_prefix_length(string header, bool expected)
    {
        var message = NetlinkMessage.Split(Hex("2c000000 1400 0200 01000000 00000000", header, "0800 0100 c00002c8", "0800 0200 c00002c8", "0800 0800 80000000")).Single();
        Assert.Equal(expected, message.IsAddress(3, Vip4));
        Assert.False(message.IsAddress(3, Vip4 with { Address = IPAddress.Parse("192.0.2.201") }));
    }

    [Fact]
    public void The_ipv4_announcement_is_a_broadcast_arp_request_from_the_vip_for_the_vip()
    {
        var announcement = Announcement.For(Vip4, Mac);

        Assert.Equal(Announcement.EtherTypeArp, announcement.EtherType);
        Assert.Equal(Hex("ffffffffffff"), announcement.Destination);
        Assert.Equal(Hex(
            "0001 0800 06 04 0001", // Ethernet, IPv4, 6 and 4 bytes, request
            "02005e102030 c00002c8", // sender: our MAC, the VIP
            "000000000000 c00002c8"), // target: unknown MAC, the VIP
            announcement.Payload);
    }

    [Fact]
    public void The_ipv6_announcement_is_an_unsolicited_override_advertisement_to_all_nodes()
    {
        var announcement = Announcement.For(Vip6, Mac);

        Assert.Equal(Announcement.EtherTypeIPv6, announcement.EtherType);
        Assert.Equal(Hex("333300000001"), announcement.Destination);
        Assert.Equal(Hex(
            "60000000 0020 3a ff", // IPv6, 32 bytes of ICMPv6, hop limit 255
            "20010db8000000000000000000000200", // from the VIP
            "ff020000000000000000000000000001", // to all nodes
            "88 00 76ed 20000000", // neighbour advertisement, checksum, override only
            "20010db8000000000000000000000200", // target: the VIP
            "02 01 02005e102030"), // target link-layer address: our MAC
            announcement.Payload);
    }

    [Fact]
    public void The_announcement_goes_to_the_interface_and_destination_in_a_sockaddr_ll()
    {
        var address = Announcement.For(Vip4, Mac).Address(interfaceIndex: 7);

        Assert.Equal(AddressFamily.Packet, address.Family);
        Assert.Equal(Hex("1100 0806 07000000 0000 00 06 ffffffffffff 0000"), address.Buffer.ToArray());
    }

    private static byte[] Hex(params string[] parts) => Convert.FromHexString(string.Concat(parts).Replace(" ", "", StringComparison.Ordinal));
}
