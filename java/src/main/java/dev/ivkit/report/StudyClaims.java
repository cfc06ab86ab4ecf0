package dev.ivkit.report;

import dev.ivkit.results.ResultsFile;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The paper's three claims (Jiang et al., arXiv 2406.12227) measured on a demo study's {@code results.json}, whose
 * first column is the pretrained abilities (mean instruction 0-shot accuracy over the pretrained tasks) and whose
 * {@code initial} carries {@code icl_accuracy} and {@code iv_cross_cosine}:
 * <ol>
 *   <li>fine-tuning costs instruction following more than knowledge: for naive fine-tuning, the drop of the instruction
 *       0-shot accuracy exceeds the drop of the 5-shot accuracy (the same tasks with the function shown by
 *       demonstrations), paired over seeds, 95 % t-interval above 0;
 *   <li>the pretraining IV survives fine-tuning and re-adding it recovers accuracy: for naive fine-tuning, the
 *       re-extracted IVs' cosine to the organism's exceeds the control (the cosine between different tasks' IVs) with its
 *       interval above it, and the points regained by adding the pre-fine-tuning IVs have an interval above 0;
 *   <li>IV-guided training forgets less than plain KL (lwf) at matched plasticity: both swept over regulariser strengths,
 *       each method's forgetting interpolated (piecewise linear in the mean new-task accuracy) over the overlap of their
 *       plasticity ranges; yes where iv-guided's is lower at every point of the overlap — for the pretrained abilities and
 *       for the earlier fine-tuned tasks separately.
 * </ol>
 * Method variants {@code NAME@SCALE} are the sweep's points; {@code NAME} alone is scale 1.
 */
final class StudyClaims {
    /** One seed's numbers. */
    record SeedPoint(double plasticity, double pretrainedDrop, double fineTunedForgetting, double iclDrop, double cosine,
            double regained) {}

    /** A measured claim: its statement, the answer (yes, no or not measured) and the numbers behind it. */
    record Claim(String id, String statement, String answer, String evidence) {}

    /** A frontier point: one variant's means over seeds. */
    record FrontierPoint(String variant, double scale, double plasticity, double pretrainedDrop, double fineTunedForgetting, int seeds) {}

    final Map<String, List<SeedPoint>> variants = new LinkedHashMap<>();
    final double control;
    final double initialIcl;

    private StudyClaims(Map<String, List<SeedPoint>> variants, double control, double initialIcl) {
        this.variants.putAll(variants);
        this.control = control;
        this.initialIcl = initialIcl;
    }

    /** The claims' inputs of a demo study; null where {@code r} is not one (no {@code initial.icl_accuracy}). */
    static StudyClaims of(ResultsFile.Results r) {
        Double icl = r.initialNumber("icl_accuracy");
        if (icl == null || r.methods() == null) {
            return null;
        }
        Double ctrl = r.initialNumber("iv_cross_cosine");
        Map<String, List<SeedPoint>> vs = new LinkedHashMap<>();
        for (Map.Entry<String, ResultsFile.MethodResults> e : r.methods().entrySet()) {
            List<SeedPoint> pts = new ArrayList<>();
            for (ResultsFile.SeedResults s : e.getValue().seeds().values()) {
                pts.add(point(s, icl));
            }
            vs.put(e.getKey(), pts);
        }
        return new StudyClaims(vs, ctrl == null ? Double.NaN : ctrl, icl);
    }

    private static SeedPoint point(ResultsFile.SeedResults s, double icl) {
        double[][] m = s.accuracyMatrix();
        int t = m.length - 1;
        double plast = 0, ft = 0;
        for (int j = 1; j <= t; j++) {
            plast += m[j][j];
        }
        for (int j = 1; j < t; j++) {
            ft += m[j][j] - m[t][j];
        }
        double lastIcl = Double.NaN, cos = Double.NaN, reg = Double.NaN;
        List<List<ResultsFile.DynamicsEntry>> d = s.dynamics();
        if (d != null && !d.isEmpty() && d.get(d.size() - 1) != null) {
            for (ResultsFile.DynamicsEntry e : d.get(d.size() - 1)) {
                if (e.taskIndex() != null && e.taskIndex() == 0) {
                    lastIcl = Stats.nan(e.iclAccuracy());
                    cos = Stats.nan(e.ivCosine());
                    reg = e.recovery() == null ? Double.NaN : Stats.nan(e.recovery().regained());
                }
            }
        }
        return new SeedPoint(t == 0 ? Double.NaN : plast / t, m[0][0] - m[t][0], t < 2 ? Double.NaN : ft / (t - 1), icl - lastIcl,
                cos, reg);
    }

    // ------------------------------------------------------------------------------------------------ claims

    List<Claim> claims() {
        return List.of(claim1(), claim2(), claim3());
    }

    private Claim claim1() {
        String st = "Fine-tuning mostly hurts instruction following, not knowledge: naive fine-tuning's drop of the pretrained tasks' "
                + "instruction 0-shot accuracy exceeds the drop of their 5-shot accuracy (the function shown by demonstrations).";
        List<SeedPoint> n = variants.get("naive");
        if (n == null) {
            return new Claim("1", st, "not measured", "no naive run in this study");
        }
        double[] diff = n.stream().mapToDouble(p -> p.pretrainedDrop() - p.iclDrop()).toArray();
        Interval i = Interval.of(diff);
        String ev = String.format("naive, %d seeds: instruction drop %s, 5-shot drop %s; difference %s, 95%% CI [%s, %s]", diff.length,
                fmt(mean(n, SeedPoint::pretrainedDrop)), fmt(mean(n, SeedPoint::iclDrop)), fmt(i.mean), fmt(i.low), fmt(i.high));
        return new Claim("1", st, Double.isFinite(i.low) ? (i.low > 0 ? "yes" : "no") : "not measured", ev);
    }

    private Claim claim2() {
        String st = "The pretraining IV still exists after fine-tuning and re-adding it recovers accuracy: naive fine-tuning's "
                + "re-extracted IVs stay closer to the organism's than different tasks' IVs are to each other, and adding the "
                + "pre-fine-tuning IVs regains points.";
        List<SeedPoint> n = variants.get("naive");
        if (n == null) {
            return new Claim("2", st, "not measured", "no naive run in this study");
        }
        Interval cos = Interval.of(n.stream().mapToDouble(SeedPoint::cosine).toArray());
        Interval reg = Interval.of(n.stream().mapToDouble(SeedPoint::regained).toArray());
        if (!Double.isFinite(cos.low) || !Double.isFinite(reg.low) || !Double.isFinite(control)) {
            return new Claim("2", st, "not measured", "IV cosine, points regained or the control missing");
        }
        boolean exists = cos.low > control, recovers = reg.low > 0;
        String ev = String.format("naive after the sequence: IV cosine %s, 95%% CI [%s, %s] vs control %s (%s); points regained %s, "
                + "95%% CI [%s, %s] (%s)", fmt(cos.mean), fmt(cos.low), fmt(cos.high), fmt(control), exists ? "exists" : "not above the control",
                fmt(reg.mean), fmt(reg.low), fmt(reg.high), recovers ? "recovers" : "no recovery");
        return new Claim("2", st, exists && recovers ? "yes" : exists ? "no (the IV exists; re-adding it does not recover)"
                : recovers ? "no (re-adding recovers; the IV is not above the control)" : "no", ev);
    }

    private Claim claim3() {
        String st = "IV-guided training reduces forgetting more than plain KL (lwf) at matched plasticity: over their swept "
                + "regulariser strengths, iv-guided's forgetting is lower at every matched new-task accuracy.";
        List<FrontierPoint> iv = frontier("iv-guided"), lwf = frontier("lwf");
        if (iv.size() < 2 || lwf.size() < 2) {
            return new Claim("3", st, "not measured", "needs a sweep of both lwf and iv-guided (ivkit demo --full or --sweep)");
        }
        Gap pre = Gap.of(iv, lwf, FrontierPoint::pretrainedDrop), ft = Gap.of(iv, lwf, FrontierPoint::fineTunedForgetting);
        if (pre == null) {
            return new Claim("3", st, "not measured", "the two frontiers' plasticity ranges do not overlap");
        }
        String ans = pre.lowerEverywhere && (ft == null || ft.lowerEverywhere) ? "yes"
                : pre.lowerEverywhere ? "yes for the pretrained abilities, no for the earlier fine-tuned tasks"
                : ft != null && ft.lowerEverywhere ? "no for the pretrained abilities, yes for the earlier fine-tuned tasks" : "no";
        String ev = String.format("over new-task accuracy %s–%s: iv-guided minus lwf, pretrained-abilities drop %s on average "
                + "(%d of %d matched points lower)", fmt(pre.from), fmt(pre.to), signed(pre.meanGap), pre.lower, pre.points)
                + (ft == null ? "" : String.format("; forgetting of earlier fine-tuned tasks %s on average (%d of %d lower)",
                signed(ft.meanGap), ft.lower, ft.points));
        return new Claim("3", st, ans, ev);
    }

    /** A method's frontier points (its sweep variants and its plain run, scale 1), by plasticity. */
    List<FrontierPoint> frontier(String method) {
        List<FrontierPoint> out = new ArrayList<>();
        for (Map.Entry<String, List<SeedPoint>> e : variants.entrySet()) {
            String name = e.getKey();
            int at = name.indexOf('@');
            String base = at < 0 ? name : name.substring(0, at);
            if (!base.equals(method)) {
                continue;
            }
            double scale = at < 0 ? 1 : Double.parseDouble(name.substring(at + 1));
            List<SeedPoint> p = e.getValue();
            out.add(new FrontierPoint(name, scale, mean(p, SeedPoint::plasticity), mean(p, SeedPoint::pretrainedDrop),
                    mean(p, SeedPoint::fineTunedForgetting), p.size()));
        }
        out.sort(Comparator.comparingDouble(FrontierPoint::plasticity));
        return out;
    }

    /** iv-guided's forgetting minus lwf's, interpolated at 21 plasticity values over the overlap of their ranges. */
    record Gap(double from, double to, double meanGap, int lower, int points, boolean lowerEverywhere) {
        static Gap of(List<FrontierPoint> a, List<FrontierPoint> b, java.util.function.ToDoubleFunction<FrontierPoint> f) {
            double from = Math.max(a.get(0).plasticity(), b.get(0).plasticity());
            double to = Math.min(a.get(a.size() - 1).plasticity(), b.get(b.size() - 1).plasticity());
            if (!(to >= from) || a.stream().anyMatch(p -> !Double.isFinite(f.applyAsDouble(p)))
                    || b.stream().anyMatch(p -> !Double.isFinite(f.applyAsDouble(p)))) {
                return null;
            }
            int n = to > from ? 21 : 1, lower = 0;
            double sum = 0;
            for (int i = 0; i < n; i++) {
                double x = n == 1 ? from : from + (to - from) * i / (n - 1);
                double g = interpolate(a, f, x) - interpolate(b, f, x);
                sum += g;
                lower += g < 0 ? 1 : 0;
            }
            return new Gap(from, to, sum / n, lower, n, lower == n);
        }
    }

    /** Piecewise-linear interpolation of {@code f} over points sorted by plasticity (ties averaged by order). */
    static double interpolate(List<FrontierPoint> pts, java.util.function.ToDoubleFunction<FrontierPoint> f, double x) {
        for (int i = 0; i + 1 < pts.size(); i++) {
            double x0 = pts.get(i).plasticity(), x1 = pts.get(i + 1).plasticity();
            if (x >= x0 && x <= x1) {
                double y0 = f.applyAsDouble(pts.get(i)), y1 = f.applyAsDouble(pts.get(i + 1));
                return x1 == x0 ? (y0 + y1) / 2 : y0 + (y1 - y0) * (x - x0) / (x1 - x0);
            }
        }
        return x <= pts.get(0).plasticity() ? f.applyAsDouble(pts.get(0)) : f.applyAsDouble(pts.get(pts.size() - 1));
    }

    /** Mean and two-sided 95 % Student-t interval over seeds (NaN values dropped; fewer than 2 values: NaN bounds). */
    record Interval(double mean, double low, double high) {
        private static final double[] T975 = {12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179,
            2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042};

        static Interval of(double[] v) {
            double[] x = java.util.Arrays.stream(v).filter(Double::isFinite).toArray();
            double m = Stats.meanOf(x);
            if (x.length < 2) {
                return new Interval(m, Double.NaN, Double.NaN);
            }
            double h = (x.length - 1 <= T975.length ? T975[x.length - 2] : 1.96) * Stats.sdOf(x) / Math.sqrt(x.length);
            return new Interval(m, m - h, m + h);
        }
    }

    static double mean(List<SeedPoint> p, java.util.function.ToDoubleFunction<SeedPoint> f) {
        return Stats.meanOf(p.stream().mapToDouble(f).filter(Double::isFinite).toArray());
    }

    private static String fmt(double v) {
        return Plots.fmt(v);
    }

    private static String signed(double v) {
        return (v >= 0 ? "+" : "") + Plots.fmt(v);
    }
}
