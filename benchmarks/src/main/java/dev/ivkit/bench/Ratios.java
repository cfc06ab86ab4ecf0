package dev.ivkit.bench;

import dev.ivkit.bench.JmhResults.Metric;
import dev.ivkit.bench.JmhResults.Result;
import java.util.ArrayList;
import java.util.List;

/**
 * The paired ratios of the results table (kernel vs composite, capture vs plain, IV-guided vs plain, exact vs naive,
 * two shards vs one), computed once for {@link ResultsTable} (the median {@link Ratio#value}) and {@link Compare}
 * (also the range {@code lo..hi} the iterations allow). Paired benchmarks time both sides back to back in each call:
 * their range is the min-max of the per-iteration ratios; separate benchmarks get the widest ratio their two
 * min-max ranges allow.
 */
final class Ratios {
    private Ratios() {}

    /** A ratio and its noise range; {@code higherIsBetter} gives its direction; {@code paired}: from aux counters. */
    record Ratio(double value, double lo, double hi, boolean higherIsBetter, boolean paired) {}

    /** A ratio named for {@link Compare}: {@code anchor} is the result whose benchmark and params it is listed under. */
    record Named(String label, Result anchor, Ratio ratio) {}

    /** {@code a / b} of two separately timed metrics, range from their min-max ranges. */
    private static Ratio separate(Metric a, Metric b, boolean higherIsBetter) {
        return new Ratio(a.p50() / b.p50(), a.min() / b.max(), a.max() / b.min(), higherIsBetter, false);
    }

    /** {@code a / b} of two aux counters of one paired benchmark, range from the per-iteration ratios. */
    private static Ratio paired(Metric a, Metric b, boolean higherIsBetter) {
        double v = a.p50() / b.p50();
        double lo = v, hi = v;
        if (a.raw().length == b.raw().length) {
            for (int i = 0; i < a.raw().length; i++) {
                double r = a.raw()[i] / b.raw()[i];
                lo = Math.min(lo, r);
                hi = Math.max(hi, r);
            }
        }
        return new Ratio(v, lo, hi, higherIsBetter, true);
    }

    /** Native kernel vs the libtorch composite it replaces (times per call): composite time / kernel time, higher is better. */
    static Ratio speedup(Result kernel, Result composite) {
        return composite == null ? null : separate(composite.primary(), kernel.primary(), true);
    }

    /** Capture vs plain forward time (lower is better): the paired counters when present, else the rates' ratio. */
    static Ratio captureOverPlain(Result capture, Result plain, Result paired) {
        Metric pp = paired == null ? null : paired.secondary().get("plainNs");
        Metric pc = paired == null ? null : paired.secondary().get("captureNs");
        if (pp != null && pc != null) {
            return paired(pc, pp, false);
        }
        return plain == null ? null : separate(plain.primary(), capture.primary(), false);
    }

    /** IV-guided vs plain LoRA micro-step time (lower is better): the paired counters when present, else the two times. */
    static Ratio ivGuidedOverPlain(Result iv, Result plain, Result paired) {
        Metric pn = paired == null ? null : paired.secondary().get("plainNs");
        Metric gn = paired == null ? null : paired.secondary().get("ivGuidedNs");
        if (pn != null && gn != null && pn.p50() > 0) {
            return paired(gn, pn, false);
        }
        return plain == null ? null : separate(iv.primary(), plain.primary(), false);
    }

    /** Two row shards on two threads vs one shard (OrganismStepBench.paired counters; lower is better). */
    static Ratio twoShardsOverOne(Result r) {
        Metric one = r.secondary().get("oneShardNs"), two = r.secondary().get("twoShardsNs");
        return one == null || two == null ? null : paired(two, one, false);
    }

    /** A 3-epoch IV-guided run ({@code counter}: cachedNs or uncachedNs) vs plain LoRA (CachedRefBench.paired; lower is better). */
    static Ratio threeEpochsOverPlain(Result r, String counter) {
        Metric plain = r.secondary().get("plainNs"), iv = r.secondary().get(counter);
        return plain == null || iv == null || plain.p50() <= 0 ? null : paired(iv, plain, false);
    }

    /** EXACT vs NAIVE scan rate (scans/s): higher is better. */
    static Ratio exactOverNaive(Result exact, Result naive) {
        return naive == null ? null : separate(exact.primary(), naive.primary(), true);
    }

    /** Every ratio the results table shows that a run's results allow, in the table's order. */
    static List<Named> all(List<Result> results) {
        List<Named> out = new ArrayList<>();
        for (Result r : results) {
            switch (r.name()) {
                case "CaptureBench.capture", "CaptureBench.captureMean" -> add(out, "capture / plain time", r,
                        captureOverPlain(r, JmhResults.partner(results, "CaptureBench.plain", r), JmhResults.partner(results,
                                r.name().equals("CaptureBench.capture") ? "CaptureBench.paired" : "CaptureBench.pairedMean", r)));
                case "AddRowsBench.kernel", "PatchHeadsBench.kernel" -> add(out, "kernel speedup over composite", r,
                        speedup(r, JmhResults.partner(results, r.name().replace(".kernel", ".composite"), r)));
                case "GatherHeadsBench.gather", "GatherHeadsBench.accumulate" -> add(out, "kernel speedup over composite", r,
                        speedup(r, JmhResults.partner(results, r.name() + "Composite", r)));
                case "KlTopkRowsBench.kernel" -> add(out, "kernel speedup over composite", r,
                        speedup(r, JmhResults.partner(results, "KlTopkRowsBench.composite", r)));
                case "KlTopkRowsBench.entryKernel" -> add(out, "kernel speedup over composite", r,
                        speedup(r, JmhResults.partner(results, "KlTopkRowsBench.entryComposite", r)));
                case "KlRowsBench.fused" -> add(out, "fused speedup over composite", r,
                        speedup(r, JmhResults.partner(results, "KlRowsBench.composite", r)));
                case "ScanBench.exact" -> add(out, "exact / naive scan rate", r,
                        exactOverNaive(r, JmhResults.partner(results, "ScanBench.naive", r)));
                case "TrainStepBench.ivGuided" -> add(out, "IV-guided / plain step time", r, ivGuidedOverPlain(r,
                        JmhResults.partner(results, "TrainStepBench.plainLora", r), JmhResults.partner(results, "TrainStepBench.paired", r)));
                case "OrganismStepBench.paired" -> add(out, "2 shards / 1 shard time", r, twoShardsOverOne(r));
                case "CachedRefBench.paired" -> {
                    add(out, "IV-guided 3 epochs, reference cache / plain time", r, threeEpochsOverPlain(r, "cachedNs"));
                    add(out, "IV-guided 3 epochs, no cache / plain time", r, threeEpochsOverPlain(r, "uncachedNs"));
                }
                default -> { }
            }
        }
        return out;
    }

    private static void add(List<Named> out, String label, Result anchor, Ratio ratio) {
        if (ratio != null) {
            out.add(new Named(label, anchor, ratio));
        }
    }
}
