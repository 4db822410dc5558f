import Testing

@testable import Datapath

@Test func embeddedObjectIsAnELFFile() {
    #expect(BPFObject.bytes.starts(with: [0x7F, 0x45, 0x4C, 0x46]))
}
