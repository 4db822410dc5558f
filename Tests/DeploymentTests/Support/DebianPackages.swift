/// Maps shared libraries to Debian packages and follows package dependencies, with this machine's dpkg database.
///
/// The build machine and the image are both Debian 12 (bookworm), so a package name and its `Depends` here are the
/// ones apt resolves in the image's runtime stage.
enum DebianPackages {
    static let dpkg = Command.find("dpkg")
    static let dpkgQuery = Command.find("dpkg-query")

    /// Whether this machine runs the image's distribution, so that its package names and dependencies are the
    /// image's (on another release the same library may have another package name, like Ubuntu's `libcurl4t64`).
    static var isBookworm: Bool {
        let release = (try? String(contentsOfFile: "/etc/os-release", encoding: .utf8)) ?? ""
        return dpkg != nil && dpkgQuery != nil && release.contains("VERSION_CODENAME=bookworm")
    }

    /// The package that owns a library file, trying both sides of the /usr merge (`/lib/...` and `/usr/lib/...`).
    static func owner(of path: String) throws -> String? {
        guard let dpkg else { throw TestFailure("dpkg is not installed") }
        var candidates = [path]
        if path.hasPrefix("/usr/") {
            candidates.append(String(path.dropFirst(4)))
        } else {
            candidates.append("/usr" + path)
        }
        for candidate in candidates {
            let result = try Command.run(dpkg, ["-S", candidate])
            guard result.status == 0, let line = result.stdout.split(separator: "\n").first,
                let colon = line.firstIndex(of: ":")
            else { continue }
            return String(line[..<colon])  // "libyaml-0-2:amd64: /usr/lib/..." -> "libyaml-0-2"
        }
        return nil
    }

    /// `packages` and everything they depend on (Depends and Pre-Depends, every alternative that is installed),
    /// which is what `apt-get install --no-install-recommends` brings into an image.
    static func closure(of packages: [String]) throws -> Set<String> {
        guard let dpkgQuery else { throw TestFailure("dpkg-query is not installed") }
        var seen = Set<String>()
        var pending = packages
        while let package = pending.popLast() {
            guard !seen.contains(package) else { continue }
            let result = try Command.run(dpkgQuery, ["-W", "-f=${Depends}, ${Pre-Depends}", package])
            guard result.status == 0 else { continue }  // virtual or not installed here: nothing to follow
            seen.insert(package)
            for alternative in result.stdout.split(whereSeparator: { $0 == "," || $0 == "|" }) {
                let name = alternative.split(separator: " ").first.map { $0.split(separator: ":")[0] }
                if let name, !name.isEmpty { pending.append(String(name)) }
            }
        }
        return seen
    }
}
