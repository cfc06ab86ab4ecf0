#!/usr/bin/env python3
"""Optional part of native/test/gpu-check.sh (docs/native-tests.md): times PyTorch's eager composite of the KL forward
+ backward on the shapes, directions and temperature that ivkit_cuda_test timed kl_rows on (read from its
cuda.timing.json), and reports kl_rows' speedup over it. Writes a skip record when torch or a GPU is missing.

The composite is the one the Java tests check kl_rows against (KlComposite): log_softmax of fp32 copies of both bf16
rows divided by T, F.kl_div(..., reduction="none", log_target=True).sum(-1), then .sum().backward() to the bf16
leaf, so its gradient is bf16 like kl_rows' timed gradient. Each call is timed alone with CUDA events.
"""
import argparse
import json
import statistics
import sys


def write(path, obj):
    with open(path, "w") as f:
        json.dump(obj, f, indent=1)
        f.write("\n")


def skip(path, reason):
    print("SKIP torch eager composite: " + reason)
    write(path, {"status": "skip", "suite": "torch", "group": "eager_composite", "skip_reason": reason})
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kl-json", required=True, help="cuda.timing.json written by ivkit_cuda_test timing")
    ap.add_argument("--out", required=True)
    ap.add_argument("--iters", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=2)
    a = ap.parse_args()
    try:
        with open(a.kl_json) as f:
            kl = json.load(f)
        entries = [e for e in kl["timing"]["kl_rows"] if e["grad"] != "none"]
    except (OSError, KeyError, ValueError) as e:
        return skip(a.out, "no kl_rows timings to compare with (%s: %s)" % (a.kl_json, e))
    try:
        import torch
        import torch.nn.functional as F
    except ImportError as e:
        return skip(a.out, "torch is not importable: %s" % e)
    if not torch.cuda.is_available():
        return skip(a.out, "torch %s sees no CUDA device" % torch.__version__)

    dev = torch.device("cuda:0")

    def step(cur, ref, t, direction):
        x = cur.detach().requires_grad_(True)
        lp = torch.log_softmax(x.float() / t, -1)
        lq = torch.log_softmax(ref.float() / t, -1)
        if direction == "reverse":  # KL(p_cur || p_ref)
            rows = F.kl_div(lq, lp, reduction="none", log_target=True).sum(-1)
        else:  # KL(p_ref || p_cur)
            rows = F.kl_div(lp, lq, reduction="none", log_target=True).sum(-1)
        rows.sum().backward()
        return rows.detach(), x.grad

    out = []
    status = "pass"
    for e in entries:
        rows, vocab = e["shape"]
        t = float(e["temperature"])
        rec = {"shape": [rows, vocab], "dtype": "bf16", "direction": e["direction"], "temperature": t,
               "kl_rows_ms_median": e["ms_median"]}
        try:
            g = torch.Generator(device=dev)
            g.manual_seed(rows * 7 + vocab)
            cur = (torch.randn(rows, vocab, device=dev, generator=g) * 3).to(torch.bfloat16)
            ref = (torch.randn(rows, vocab, device=dev, generator=g) * 3).to(torch.bfloat16)
            for _ in range(a.warmup):
                step(cur, ref, t, e["direction"])
            torch.cuda.synchronize()
            times = []
            for _ in range(a.iters):
                s, f = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
                s.record()
                step(cur, ref, t, e["direction"])
                f.record()
                f.synchronize()
                times.append(s.elapsed_time(f))
            med = statistics.median(times)
            rec.update({"eager_ms_median": med, "eager_ms_min": min(times), "iters": a.iters, "warmup": a.warmup,
                        "peak_memory_bytes": torch.cuda.max_memory_allocated(dev),
                        "speedup": med / e["ms_median"], "meets_3x": med / e["ms_median"] >= 3.0})
            print("  eager composite %dx%d bf16 %s fwd+bwd: %.3f ms median; kl_rows %.3f ms: %.2fx"
                  % (rows, vocab, e["direction"], med, e["ms_median"], med / e["ms_median"]))
            del cur, ref
        except Exception as ex:  # out of memory on a smaller GPU, say: recorded, not fatal
            status = "fail"
            rec["error"] = "%s: %s" % (type(ex).__name__, ex)
            print("  eager composite %dx%d %s: %s" % (rows, vocab, e["direction"], rec["error"]))
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(dev)
        out.append(rec)
    write(a.out, {"status": status, "suite": "torch", "group": "eager_composite", "torch": torch.__version__,
                  "device": torch.cuda.get_device_name(dev),
                  "composite": "log_softmax(x.float()/T) of both, F.kl_div(log_target=True).sum(-1), .sum().backward()"
                               " to the bf16 leaf",
                  "all_meet_3x": bool(out) and all(r.get("meets_3x", False) for r in out), "entries": out})
    return 0


if __name__ == "__main__":
    sys.exit(main())
