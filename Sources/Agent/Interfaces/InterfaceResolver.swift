import DataplaneModel

#if canImport(Glibc)
    import Glibc
#endif

/// Why a pod's host-side interface could not be found. The reconciler retries such pods rather than failing:
/// the CNI may simply not have created the veth yet.
public enum InterfaceResolutionError: Error, Equatable, CustomStringConvertible {
    case noRoute(IPAddress)
    case notAPodInterface(IPAddress, interface: String)
    case unknownInterface(String)
    case notAVeth(String, kind: String?)
    case system(operation: String, errno: Int32)

    public var description: String {
        switch self {
        case .noRoute(let address): "no route to \(address) on this node"
        case .notAPodInterface(let address, let interface):
            "\(address) is routed via \(interface), which is not a pod's host-side interface"
        case .unknownInterface(let name): "interface \(name) does not exist"
        case .notAVeth(let name, let kind):
            "interface \(name) is \(kind.map { "a \($0)" } ?? "a device") and not a veth: Bulwark attaches only to the"
                + " host side of pods' veths"
        case .system(let operation, let code): "\(operation): \(String(cString: strerror(code)))"
        }
    }
}

/// Finds the host-side interface index of a local pod.
public protocol InterfaceResolver: Sendable {
    /// - Parameters:
    ///   - addresses: the pod's IPs.
    ///   - interfaceName: an explicit interface name (standalone mode's `bulwark.dev/interface` annotation), if any.
    func ifindex(addresses: [IPAddress], interfaceName: String?) throws(InterfaceResolutionError) -> UInt32
}

/// Resolves interfaces on the real host: by explicit name when given, otherwise by the route to the pod's IP.
///
/// Only veths qualify. An address routed straight out of the node's uplink or a bridge (a pod address inside the
/// node's own subnet, a bridge CNI, a typo in an annotation) would otherwise put one pod's policy on every packet
/// through that device.
public struct HostInterfaceResolver: InterfaceResolver {
    public init() {}

    public func ifindex(addresses: [IPAddress], interfaceName: String?) throws(InterfaceResolutionError) -> UInt32 {
        if let interfaceName {
            let index = if_nametoindex(interfaceName)
            guard index != 0 else { throw .unknownInterface(interfaceName) }
            let kind = try RouteLookup.linkKind(ifindex: index)
            guard kind == "veth" else { throw .notAVeth(interfaceName, kind: kind) }
            return index
        }
        var lastError = InterfaceResolutionError.noRoute(addresses.first ?? .v4(0))
        for address in addresses {
            do throws(InterfaceResolutionError) {
                let route = try RouteLookup.route(to: address)
                let name = Self.name(of: route.ifindex)
                // A pod route is a direct (scope host/link) route on a veth; loopback, a gatewayed route or any
                // other device means the address is not a local pod's.
                guard !route.viaGateway, route.ifindex != 1, try RouteLookup.linkKind(ifindex: route.ifindex) == "veth"
                else { throw InterfaceResolutionError.notAPodInterface(address, interface: name) }
                return route.ifindex
            } catch {
                lastError = error
            }
        }
        throw lastError
    }

    static func name(of ifindex: UInt32) -> String {
        var buffer = [CChar](repeating: 0, count: Int(IF_NAMESIZE) + 1)
        guard if_indextoname(ifindex, &buffer) != nil else { return "ifindex \(ifindex)" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
