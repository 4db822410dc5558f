import Foundation

/// The parts of the repository's Dockerfile the tests check: stages, their base images and their commands.
///
/// A deliberately small reader for our own Dockerfile (line continuations, comments, ARG defaults), not a general
/// Dockerfile parser.
struct Dockerfile {
    struct Instruction {
        var keyword: String
        var arguments: String
    }

    struct Stage {
        var image: String
        var name: String?
        var instructions: [Instruction] = []

        func arguments(of keyword: String) -> [String] {
            instructions.filter { $0.keyword == keyword }.map(\.arguments)
        }

        /// Packages named by every `apt-get install` in the stage's RUN instructions.
        var aptInstalledPackages: [String] {
            arguments(of: "RUN").flatMap { run in
                run.components(separatedBy: "&&").flatMap { command -> [String] in
                    let words = command.split(whereSeparator: \.isWhitespace).map(String.init)
                    guard let apt = words.firstIndex(where: { $0 == "apt-get" || $0 == "apt" }),
                        let install = words[apt...].firstIndex(of: "install")
                    else { return [] }
                    return words[(install + 1)...].filter { !$0.hasPrefix("-") && $0 != "\\" }
                }
            }
        }

        /// Whether every `apt-get install` of the stage skips Recommends (we count on Depends only).
        var aptSkipsRecommends: Bool {
            arguments(of: "RUN").allSatisfy { run in
                run.components(separatedBy: "&&").allSatisfy { command in
                    !command.contains(" install ") || command.contains("--no-install-recommends")
                }
            }
        }
    }

    var stages: [Stage] = []

    init(text: String) {
        var argumentDefaults: [String: String] = [:]
        for line in Self.logicalLines(text) {
            let parts = line.split(separator: " ", maxSplits: 1).map(String.init)
            let keyword = parts[0].uppercased()
            let arguments = parts.count > 1 ? parts[1].trimmingCharacters(in: .whitespaces) : ""
            switch keyword {
            case "ARG" where stages.isEmpty:
                let pair = arguments.split(separator: "=", maxSplits: 1).map(String.init)
                if pair.count == 2 { argumentDefaults[pair[0]] = pair[1] }
            case "FROM":
                let words = arguments.split(separator: " ").map(String.init)
                var image = words.first ?? ""
                for (name, value) in argumentDefaults {
                    image = image.replacingOccurrences(of: "${\(name)}", with: value)
                }
                let name = words.count == 3 && words[1].uppercased() == "AS" ? words[2] : nil
                stages.append(Stage(image: image, name: name))
            default:
                if !stages.isEmpty {
                    stages[stages.count - 1].instructions.append(Instruction(keyword: keyword, arguments: arguments))
                }
            }
        }
    }

    /// Instructions with continuation lines joined and comments dropped.
    private static func logicalLines(_ text: String) -> [String] {
        var lines: [String] = []
        var current = ""
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.hasPrefix("#") { continue }
            if line.hasSuffix("\\") {
                current += line.dropLast() + " "
            } else {
                current += line
                if !current.trimmingCharacters(in: .whitespaces).isEmpty { lines.append(current) }
                current = ""
            }
        }
        return lines
    }
}
