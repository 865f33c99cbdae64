import CCOrcKit
import Foundation

func runTmuxBenchmark() async throws {}
