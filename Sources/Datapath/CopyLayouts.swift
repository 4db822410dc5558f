internal import BPFShims
import DataplaneModel

/// Copies of the selectors (`bulwark_selector_cache`): the programs' selector lookup without a hash call.
typealias SelectorCache = CopyTable<SelectorCopies>
/// Copies of the ipcache's host addresses (`bulwark_address_cache`): identity lookup without a trie call.
typealias AddressCache = CopyTable<AddressCopies>

enum SelectorCopies: CopyLayout {
    /// A selector key as a dictionary key.
    struct Key: Hashable, Comparable {
        var endpoint: UInt32
        var identity: UInt32
        var dirEpoch: UInt8

        init(endpoint: UInt32, identity: UInt32, dirEpoch: UInt8) {
            (self.endpoint, self.identity, self.dirEpoch) = (endpoint, identity, dirEpoch)
        }

        init(_ raw: bulwark_selector_key) {
            self.init(endpoint: raw.endpoint, identity: raw.identity, dirEpoch: raw.dir_epoch)
        }

        var raw: bulwark_selector_key {
            var key = zeroed(bulwark_selector_key.self)
            (key.endpoint, key.identity, key.dir_epoch) = (endpoint, identity, dirEpoch)
            return key
        }

        var bucket: UInt32 { SelectorCopies.bucket(of: self) }

        static func < (a: Key, b: Key) -> Bool {
            (a.endpoint, a.identity, a.dirEpoch) < (b.endpoint, b.identity, b.dirEpoch)
        }
    }

    static let bucketCount = Int(BULWARK_SELECTOR_BUCKETS)

    static func bucket(of key: Key) -> UInt32 {
        var raw = key.raw
        return bulwark_selector_bucket_of(&raw)
    }

    static func load(_ base: UnsafeMutableRawPointer, _ index: UInt32) -> bulwark_selector_bucket {
        bulwark_selector_bucket_load(base, index)
    }

    static func store(_ base: UnsafeMutableRawPointer, _ index: UInt32, _ bucket: bulwark_selector_bucket) {
        bulwark_selector_bucket_store(base, index, bucket)
    }

    static func sequence(of bucket: bulwark_selector_bucket) -> UInt32 { bucket.sequence }

    static func ways(of bucket: bulwark_selector_bucket) -> (
        ways: [(key: Key, value: bulwark_selector_value)?], complete: Bool
    ) {
        var bucket = bucket
        let ways = (0..<UInt32(BULWARK_SELECTOR_WAYS)).map { way in
            let key = bulwark_selector_bucket_key(&bucket, way)
            return key.endpoint == 0 ? nil : (Key(key), bulwark_selector_bucket_value(&bucket, way))
        }
        return (ways, bucket.complete != 0)
    }

    static func bucket(ways: [(key: Key, value: bulwark_selector_value)?], complete: Bool) -> bulwark_selector_bucket {
        var bucket = zeroed(bulwark_selector_bucket.self)
        for (way, entry) in ways.enumerated() {
            if let entry { bulwark_selector_bucket_set(&bucket, UInt32(way), entry.key.raw, entry.value) }
        }
        bucket.complete = complete ? 1 : 0
        return bucket
    }
}

enum AddressCopies: CopyLayout {
    static let bucketCount = Int(BULWARK_ADDRESS_BUCKETS)

    static func bucket(of address: IPAddress) -> UInt32 {
        var key = raw(address)
        return bulwark_address_bucket_of(&key)
    }

    static func load(_ base: UnsafeMutableRawPointer, _ index: UInt32) -> bulwark_address_bucket {
        bulwark_address_bucket_load(base, index)
    }

    static func store(_ base: UnsafeMutableRawPointer, _ index: UInt32, _ bucket: bulwark_address_bucket) {
        bulwark_address_bucket_store(base, index, bucket)
    }

    static func sequence(of bucket: bulwark_address_bucket) -> UInt32 { bucket.sequence }

    static func ways(of bucket: bulwark_address_bucket) -> (ways: [(key: IPAddress, value: UInt32)?], complete: Bool) {
        var bucket = bucket
        let ways = (0..<UInt32(BULWARK_ADDRESS_WAYS)).map { way -> (key: IPAddress, value: UInt32)? in
            let key = bulwark_address_bucket_key(&bucket, way)
            let bytes = withUnsafeBytes(of: key.addr) { Array($0) }
            guard let address = IPAddress(family: key.family, bytes: bytes) else { return nil }
            return (address, bulwark_address_bucket_identity(&bucket, way))
        }
        return (ways, false)
    }

    static func bucket(ways: [(key: IPAddress, value: UInt32)?], complete: Bool) -> bulwark_address_bucket {
        var bucket = zeroed(bulwark_address_bucket.self)
        for (way, entry) in ways.enumerated() {
            if let entry { bulwark_address_bucket_set(&bucket, UInt32(way), raw(entry.key), entry.value) }
        }
        return bucket
    }

    /// The ABI key of an address (IPv4 in the first 4 bytes, the rest zero).
    static func raw(_ address: IPAddress) -> bulwark_address_key {
        var key = zeroed(bulwark_address_key.self)
        key.family = address.isV4 ? 4 : 6
        withUnsafeMutableBytes(of: &key.addr) { raw in
            for (index, byte) in address.bytes.enumerated() { raw[index] = byte }
        }
        return key
    }
}
