package dev.ivkit.report;

import java.util.ArrayList;
import java.util.List;

/**
 * A demo study's "Three claims of the paper" section (each claim's measured answer and numbers, {@link StudyClaims}) and,
 * where lwf and iv-guided were swept, its "Forgetting vs. plasticity frontier" section.
 */
final class ClaimsSections {
    private ClaimsSections() {}

    /** Adds the sections of {@code c} (null: not a demo study, nothing added) to {@code out}. */
    static void build(SectionContext ctx, StudyClaims c, String where, List<Section> out) {
        if (c == null) {
            return;
        }
        List<List<String>> rows = new ArrayList<>();
        for (StudyClaims.Claim k : c.claims()) {
            rows.add(List.of(k.id(), k.statement(), k.answer(), k.evidence()));
        }
        out.add(new Section(ctx.id("claims"), "Three claims of the paper, measured" + where)
                .note("Jiang et al. (arXiv 2406.12227), each stated as a yes/no the numbers decide; intervals are 95 % Student-t "
                        + "over seeds. Knowledge here is the pretrained tasks' 5-shot accuracy (the function given by "
                        + "demonstrations, P(y | x, theta)); instruction following their instruction 0-shot accuracy.")
                .table(List.of("claim", "statement", "answer", "measured"), rows));
        List<String> svgs = frontierSvgs(c);
        if (svgs.isEmpty()) {
            return;
        }
        List<List<String>> pts = new ArrayList<>();
        for (String m : List.of("lwf", "iv-guided")) {
            for (StudyClaims.FrontierPoint p : c.frontier(m)) {
                pts.add(List.of(m, Plots.fmt(p.scale()), Integer.toString(p.seeds()), Plots.fmt(p.plasticity()),
                        Plots.fmt(p.pretrainedDrop()), Plots.fmt(p.fineTunedForgetting())));
            }
        }
        out.add(new Section(ctx.id("frontier"), "Forgetting vs. plasticity frontier" + where)
                .note("Each point is one regulariser strength (every weight of the method times the scale; 1 = the main run), "
                        + "mean over seeds. Plasticity: accuracy of each fine-tuning task right after training on it, mean over "
                        + "the tasks. Left: drop of the pretrained tasks' instruction 0-shot accuracy after the whole sequence. "
                        + "Right: forgetting of the earlier fine-tuned tasks (accuracy right after learning minus after the "
                        + "last task). Lower-right is better.")
                .figures(svgs)
                .table(List.of("method", "strength", "seeds", "new-task accuracy", "pretrained drop", "fine-tuned forgetting"), pts));
    }

    /** The two frontier plots; empty unless both lwf and iv-guided have at least two points. */
    static List<String> frontierSvgs(StudyClaims c) {
        List<StudyClaims.FrontierPoint> iv = c.frontier("iv-guided"), lwf = c.frontier("lwf");
        if (iv.size() < 2 || lwf.size() < 2) {
            return List.of();
        }
        List<Plots.Series> pre = new ArrayList<>(), ft = new ArrayList<>();
        for (List<StudyClaims.FrontierPoint> f : List.of(lwf, iv)) {
            String name = f == lwf ? "lwf (plain KL)" : "iv-guided";
            double[] x = f.stream().mapToDouble(StudyClaims.FrontierPoint::plasticity).toArray();
            List<String> labels = f.stream().map(p -> name + " × " + Plots.fmt(p.scale())).toList();
            pre.add(new Plots.Series(name, x, f.stream().mapToDouble(StudyClaims.FrontierPoint::pretrainedDrop).toArray(), false, labels));
            ft.add(new Plots.Series(name, x, f.stream().mapToDouble(StudyClaims.FrontierPoint::fineTunedForgetting).toArray(), false,
                    labels));
        }
        return List.of(Plots.lines("Pretrained abilities: forgetting vs. plasticity", "new-task accuracy",
                        "instruction accuracy drop", pre),
                Plots.lines("Earlier fine-tuned tasks: forgetting vs. plasticity", "new-task accuracy", "accuracy lost", ft));
    }
}
