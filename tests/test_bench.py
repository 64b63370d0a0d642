"""The throughput benchmark runs and reports every path (no timing is asserted)."""
import importlib.util
import pathlib

ROOT = pathlib.Path(__file__).resolve().parent.parent


def test_throughput_benchmark_reports_all_three_paths(tmp_path):
    spec = importlib.util.spec_from_file_location("throughput", ROOT / "bench" / "throughput.py")
    throughput = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(throughput)
    rows = throughput.main(["--models", "deepjscc_cifar10_r6", "--images", "2", "--repeats", "1",
                            "--out", str(tmp_path)])
    assert [row["path"] for row in rows] == ["flowgraph", "onnxruntime", "torch eager"]
    assert all(row["images/s"] > 0 for row in rows)
    assert (tmp_path / "throughput.md").read_text().count("deepjscc_cifar10_r6") >= 3
