import Foundation

/// Writes one line to standard output, unbuffered, so long-running commands (standalone, observe) show each line as
/// it happens even when stdout is a pipe or a file.
func printLine(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}
