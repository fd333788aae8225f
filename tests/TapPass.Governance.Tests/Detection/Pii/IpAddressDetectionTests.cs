using TapPass.Governance.Detection;
using TapPass.Governance.Detection.Pii;

namespace TapPass.Governance.Tests.Detection.Pii;

public sealed class IpAddressDetectionTests
{
    [Theory]
    [InlineData("Who does 219.45.72.182 belong to?", "219.45.72.182")]
    [InlineData("Connection refused (10.0.0.1:443)", "10.0.0.1")]
    [InlineData("subnet 192.168.0.0/24", "192.168.0.0")]
    [InlineData("X-Forwarded-For: 203.0.113.7", "203.0.113.7")]
    [InlineData("ping 127.0.0.1.", "127.0.0.1")]
    [InlineData("http://10.1.2.3/admin", "10.1.2.3")]
    [InlineData("Access denied for user 'app'@'172.16.0.4'", "172.16.0.4")]
    [InlineData("Onze router heeft nu IP-adres 10.20.30.40.", "10.20.30.40")]
    [InlineData("from 2001:db8:85a3::8a2e:370:7334 today", "2001:db8:85a3::8a2e:370:7334")]
    [InlineData("2001:0db8:85a3:0000:0000:8a2e:0370:7334", "2001:0db8:85a3:0000:0000:8a2e:0370:7334")]
    [InlineData("loopback ::1 only", "::1")]
    [InlineData("mapped ::ffff:192.0.2.128 here", "::ffff:192.0.2.128")]
    [InlineData("link-local fe80::1ff:fe23:4567:890a, ok", "fe80::1ff:fe23:4567:890a")]
    [InlineData("http://[2001:db8::1]:8080/", "2001:db8::1")]
    [InlineData("net 2001:db8::/32", "2001:db8::")]
    [InlineData("'403 from 2604:a880::2:d0:1'", "2604:a880::2:d0:1")]
    [InlineData("fe80::1: timeout", "fe80::1")]
    public void Detect_IpAddress_SpanIsTheAddressOnly(string text, string expected)
    {
        Scan.ValuesOf(EntityTypes.IpAddress, text).Should().Equal(expected);
    }

    [Theory]
    [InlineData("Installed version 7.14.5.112; latest is 6.10.5.171.")]
    [InlineData("[assembly: AssemblyVersion(\"1.0.0.0\")]")]
    [InlineData("AssemblyFileVersion 2.3.4.5")]
    [InlineData("Chrome 120.0.6099.109")]
    [InlineData("Mozilla/5.0 Chrome/120.0.0.1 Safari")]
    [InlineData("Section 3.14.4.18 describes the retention rules.")]
    [InlineData("Driver 4.9.1.160 crashes on resume.")]
    [InlineData("Release notes for 2.0.1.7: minor fixes.")]
    [InlineData("v1.2.3.4")]
    [InlineData("999.1.1.1")]
    [InlineData("1.2.3.4.5")]
    [InlineData("OID 1.3.6.1.4.1.311")]
    [InlineData("std::map<int, int> m; a::b")]
    [InlineData("MAC 00:1A:2B:3C:4D:5E")]
    [InlineData("at 12:30:45 sharp")]
    [InlineData("xs[::2] slice")]
    [InlineData("1:2:3:4:5:6:7:8:9")]
    [InlineData("Foo::Bar::Baz")]
    [InlineData("note :: separator")]
    public void Detect_NotAnIpAddress_IsNotReported(string text)
    {
        Scan.ValuesOf(EntityTypes.IpAddress, text).Should().BeEmpty();
    }

    [Theory]
    [InlineData("::", false)]
    [InlineData("::1", true)]
    [InlineData("1::", true)]
    [InlineData("1:2:3:4:5:6:7:8", true)]
    [InlineData("1:2:3:4:5:6:7", false)]
    [InlineData("1::2::3", false)]
    [InlineData("12345::1", false)]
    [InlineData("::ffff:1.2.3.256", false)]
    [InlineData("1:2:3:4:5:6:1.2.3.4", true)]
    [InlineData("1.2.3.4::1", false)]
    public void IsValidV6_FollowsRfc4291(string text, bool valid)
    {
        IpAddressRules.IsValidV6(text).Should().Be(valid);
    }
}
