import Testing
@testable import DataplaneModel

@Test(arguments: [
    ("10.0.0.1", "10.0.0.1"), ("0.0.0.0", "0.0.0.0"), ("255.255.255.255", "255.255.255.255"),
    ("::", "::"), ("::1", "::1"), ("2001:db8::1", "2001:db8::1"), ("2001:DB8:0:0:1:0:0:1", "2001:db8::1:0:0:1"),
    ("fe80::1:2", "fe80::1:2"), ("::ffff:10.1.2.3", "::ffff:a01:203"), ("1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"),
])
func addressesRoundTripInCanonicalForm(input: String, canonical: String) throws {
    let address = try #require(IPAddress(input))
    #expect(address.description == canonical)
}

@Test(arguments: ["", "1.2.3", "1.2.3.4.5", "256.1.1.1", "01.2.3.4", "1.2.3.-4", "+1.2.3.4", "1.2.3.4 ", "1..3.4", "1.2.3.", "1::2::3", "12345::", "1:2:3:4:5:6:7:8:9", "g::1", "::1.2.3"])
func malformedAddressesAreRejected(input: String) {
    #expect(IPAddress(input) == nil)
}

@Test func prefixesRejectHostBitsAndBadLengths() {
    #expect(IPPrefix("10.0.0.0/8") != nil)
    #expect(IPPrefix("10.0.0.1/8") == nil)
    #expect(IPPrefix("10.0.0.0/33") == nil)
    #expect(IPPrefix("10.0.0.0/-1") == nil)
    #expect(IPPrefix("2001:db8::/32")?.description == "2001:db8::/32")
    #expect(IPPrefix("2001:db8::/129") == nil)
}

@Test func prefixContainmentFollowsLengthAndFamily() throws {
    let wide = try #require(IPPrefix("10.0.0.0/8"))
    let narrow = try #require(IPPrefix("10.1.0.0/16"))
    #expect(wide.contains(narrow))
    #expect(!narrow.contains(wide))
    #expect(wide.contains(try #require(IPAddress("10.255.0.1"))))
    #expect(!wide.contains(try #require(IPAddress("11.0.0.1"))))
    #expect(!wide.contains(try #require(IPAddress("::a00:1"))))
    let v6 = try #require(IPPrefix("2001:db8::/96"))
    #expect(v6.contains(try #require(IPAddress("2001:db8::ffff:1"))))
    #expect(!v6.contains(try #require(IPAddress("2001:db8::1:0:0:1"))))
    #expect(try #require(IPPrefix(address: IPAddress("10.9.8.7")!, length: 0)).contains(narrow))
}
