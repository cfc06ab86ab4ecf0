package dev.ivkit.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ivkit.results.ResultsFile;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The three claims and the frontier comparison on hand-made studies whose answers are computed here by hand. */
class StudyClaimsTest {
    /**
     * One seed over a pretrained column and two fine-tuning tasks: the pretrained accuracy goes 1.0 → {@code preAfter},
     * the tasks are learned to {@code learned} and the first ends at {@code learned - ftLost}; after the sequence the
     * 5-shot accuracy is {@code iclAfter}, the IV cosine {@code cos} and the points regained {@code regained}.
     */
    private static ResultsFile.SeedResults seed(double preAfter, double learned, double ftLost, double iclAfter, double cos, double regained) {
        double[][] m = {
            {1.0, 0.0, 0.0},
            {(1 + preAfter) / 2, learned, 0.0},
            {preAfter, learned - ftLost, learned}};
        Map<String, Object> rec = new LinkedHashMap<>();
        rec.put("accuracy_with_pre_iv", preAfter + regained);
        rec.put("lost", 1 - preAfter);
        rec.put("regained", regained);
        rec.put("share_regained", null);
        Map<String, Object> pooled = new LinkedHashMap<>();
        pooled.put("task", "pretrained");
        pooled.put("task_index", 0);
        pooled.put("accuracy", preAfter);
        pooled.put("iv_cosine", cos);
        pooled.put("recovery", rec);
        pooled.put("icl_accuracy", iclAfter);
        List<Object> dyn = List.of(List.of(Map.of("task", "pretrained", "task_index", 0, "accuracy", (1 + preAfter) / 2)), List.of(pooled));
        return ResultsFile.SeedResults.of(m, new double[] {1.0, 0.0, 0.0}, List.of(0.1, 0.1), null, dyn, null);
    }

    private static ResultsFile.MethodResults method(ResultsFile.SeedResults... s) {
        Map<String, ResultsFile.SeedResults> m = new LinkedHashMap<>();
        for (int i = 0; i < s.length; i++) {
            m.put(Integer.toString(i + 1), s[i]);
        }
        return ResultsFile.MethodResults.of(m);
    }

    private static ResultsFile.Results study(Map<String, ResultsFile.MethodResults> methods) {
        Map<String, Object> initial = new LinkedHashMap<>();
        initial.put("icl_accuracy", 0.9);
        initial.put("iv_cross_cosine", 0.5);
        return ResultsFile.Results.of("test", List.of("pretrained", "a", "b"), List.of("em", "em", "em"), Map.of(), null, initial, methods);
    }

    @Test
    void claimsAnsweredFromHandComputedNumbers() {
        Map<String, ResultsFile.MethodResults> ms = new LinkedHashMap<>();
        // naive: instruction drops 0.6 / 0.7 / 0.8, 5-shot drops 0.1 / 0.1 / 0.2 (0.9 − iclAfter)
        ms.put("naive", method(seed(0.4, 1, 0.5, 0.8, 0.9, 0.05), seed(0.3, 1, 0.5, 0.8, 0.8, 0.10), seed(0.2, 1, 0.5, 0.7, 0.85, 0.15)));
        // frontiers: iv-guided below lwf at every plasticity
        ms.put("lwf", method(seed(0.9, 0.8, 0.3, 0.9, 1, 0)));
        ms.put("lwf@0.3", method(seed(0.7, 1.0, 0.5, 0.9, 1, 0)));
        ms.put("iv-guided", method(seed(0.95, 0.8, 0.2, 0.9, 1, 0)));
        ms.put("iv-guided@0.3", method(seed(0.8, 1.0, 0.4, 0.9, 1, 0)));
        StudyClaims c = StudyClaims.of(study(ms));
        List<StudyClaims.Claim> claims = c.claims();
        // claim 1: differences 0.5, 0.6, 0.6 → mean 0.5667, sd 0.05774, half-width 4.303 · 0.05774 / √3 = 0.1434
        assertEquals("yes", claims.get(0).answer());
        assertTrue(claims.get(0).evidence().contains("difference 0.567, 95% CI [0.423, 0.710]"), claims.get(0).evidence());
        // claim 2: cosine 0.85 ± 4.303 · 0.05 / √3 = [0.726, 0.974] > 0.5; regained 0.10, [−0.024, 0.224] crosses 0
        assertEquals("no (the IV exists; re-adding it does not recover)", claims.get(1).answer());
        // claim 3: plasticity 0.8 → 1.0 for both; pretrained drop iv 0.05 → 0.2 vs lwf 0.1 → 0.3; fine-tuned 0.2 → 0.4 vs 0.3 → 0.5
        assertEquals("yes", claims.get(2).answer());
        StudyClaims.Gap g = StudyClaims.Gap.of(c.frontier("iv-guided"), c.frontier("lwf"), StudyClaims.FrontierPoint::pretrainedDrop);
        assertEquals(0.8, g.from(), 1e-12);
        assertEquals(1.0, g.to(), 1e-12);
        assertEquals(-0.075, g.meanGap(), 1e-12);   // the gap runs −0.05 → −0.1 linearly: mean −0.075
        assertEquals(21, g.lower());
    }

    @Test
    void frontierWorseSomewhereIsNoAndMissingSweepIsNotMeasured() {
        Map<String, ResultsFile.MethodResults> ms = new LinkedHashMap<>();
        ms.put("lwf", method(seed(0.9, 0.8, 0.3, 0.9, 1, 0)));
        ms.put("lwf@3.0", method(seed(0.98, 0.6, 0.1, 0.9, 1, 0)));
        ms.put("iv-guided", method(seed(0.95, 0.8, 0.2, 0.9, 1, 0)));   // better at 0.8
        ms.put("iv-guided@3.0", method(seed(0.9, 0.6, 0.1, 0.9, 1, 0)));   // worse at 0.6: drop 0.1 vs 0.02
        List<StudyClaims.Claim> claims = StudyClaims.of(study(ms)).claims();
        assertEquals("not measured", claims.get(0).answer(), "no naive run");
        assertTrue(claims.get(2).answer().startsWith("no"), claims.get(2).toString());
        ms.remove("iv-guided@3.0");
        assertEquals("not measured", StudyClaims.of(study(ms)).claims().get(2).answer());
    }

    @Test
    void aStudyWithoutTheDemoColumnsHasNoClaims() {
        ResultsFile.Results r = ResultsFile.Results.of("continual", List.of("a"), List.of("em"), Map.of(), null, Map.of(),
                Map.of("naive", method(seed(0.5, 1, 0, 0.9, 1, 0))));
        assertNull(StudyClaims.of(r));
        assertEquals(List.of(), ReportWriter.claimLines(r));
        assertNull(ReportWriter.frontierSvg(r));
    }

    @Test
    void interpolationIsPiecewiseLinearAndClampedAtTheEnds() {
        List<StudyClaims.FrontierPoint> pts = List.of(new StudyClaims.FrontierPoint("a", 1, 0.2, 1.0, 0, 1),
                new StudyClaims.FrontierPoint("b", 1, 0.6, 3.0, 0, 1));
        assertEquals(2.0, StudyClaims.interpolate(pts, StudyClaims.FrontierPoint::pretrainedDrop, 0.4), 1e-12);
        assertEquals(1.0, StudyClaims.interpolate(pts, StudyClaims.FrontierPoint::pretrainedDrop, 0.0), 1e-12);
        assertEquals(3.0, StudyClaims.interpolate(pts, StudyClaims.FrontierPoint::pretrainedDrop, 0.9), 1e-12);
    }
}
