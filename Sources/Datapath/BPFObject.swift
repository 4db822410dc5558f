import Foundation

/// The compiled eBPF object (built from `bpf/` by BPFObjectPlugin and embedded in the binary).
public enum BPFObject {
    /// The object file's bytes, ready for `bpf_object__open_mem`.
    public static let bytes: [UInt8] = Array(Data(base64Encoded: embeddedBPFObjectBase64) ?? Data())
}
