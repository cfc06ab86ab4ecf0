package dev.ivkit.report;

import dev.ivkit.results.RecoveryRangeException;
import dev.ivkit.results.RecoveryScore;
import dev.ivkit.results.ResultsFile;
import dev.ivkit.results.Spread;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** One method of results.json: per-seed metrics, accuracy matrices and IV-dynamics entries. */
final class StudyMethod {
    /**
     * One task's IV-dynamics entry; {@code stage} is the accuracy-matrix row it was measured after (the demo's matrices
     * start with the organism, so its stages are one row further down than their position in {@code iv_dynamics}).
     * {@code regained} and {@code share} follow {@link RecoveryScore} (for files written before {@code regained}
     * existed: accuracy with the IV − accuracy, and the share recomputed under the floor); NaN where not measured.
     */
    record DynPoint(String seed, int stage, int task_index, String task, double cosine, double accuracy,
            double jaccard, double lost, double regained, double share) {}

    /** One knowledge-probe measurement of a task after a stage. */
    record KnowPoint(String seed, int stage, String task, double knowledge, double instruction) {}

    final String name;
    final Map<String, Map<String, Double>> seeds = new LinkedHashMap<>();  // seed -> AP/BWT/FWT
    final List<double[][]> matrices = new ArrayList<>();
    final List<DynPoint> dynamics = new ArrayList<>();
    final List<KnowPoint> knowledge = new ArrayList<>();
    final Map<String, double[]> summary = new LinkedHashMap<>();  // metric -> mean, std

    private StudyMethod(String name) {
        this.name = name;
    }

    /** The report's view of method {@code name} of a results file. */
    static StudyMethod of(String name, ResultsFile.MethodResults mr) {
        StudyMethod m = new StudyMethod(name);
        if (mr == null) {
            return m;
        }
        if (mr.seeds() != null) {
            for (Map.Entry<String, ResultsFile.SeedResults> s : mr.seeds().entrySet()) {
                ResultsFile.SeedResults sr = s.getValue();
                Map<String, Double> met = new LinkedHashMap<>();
                if (sr != null) {
                    putIf(met, "AP", sr.ap());
                    putIf(met, "BWT", sr.bwt());
                    putIf(met, "FWT", sr.fwt());
                }
                m.seeds.put(s.getKey(), met);
                if (sr == null) {
                    continue;
                }
                if (sr.accuracyMatrix() != null && sr.accuracyMatrix().length > 0) {
                    m.matrices.add(sr.accuracyMatrix());
                }
                List<List<ResultsFile.DynamicsEntry>> dyn = sr.dynamics();
                if (dyn != null) {
                    int rows = sr.accuracyMatrix() == null ? 0 : sr.accuracyMatrix().length;
                    m.addDynamics(s.getKey(), dyn, Math.max(0, rows - dyn.size()));
                }
            }
        }
        if (mr.summary() != null) {
            for (String k : List.of("AP", "BWT", "FWT")) {
                Spread sp = mr.summary().get(k);
                if (sp != null) {
                    m.summary.put(k, new double[] {sp.meanOrNaN(), sp.stdOrNaN()});
                }
            }
        }
        return m;
    }

    private static void putIf(Map<String, Double> met, String k, Double v) {
        if (v != null) {
            met.put(k, v);
        }
    }

    /** Adds a seed's entries; {@code offset}: the matrix row of the first stage. */
    private void addDynamics(String seed, List<List<ResultsFile.DynamicsEntry>> stages, int offset) {
        for (int k = 0; k < stages.size(); k++) {
            List<ResultsFile.DynamicsEntry> a = stages.get(k);
            if (a == null) {
                continue;
            }
            int stage = k + offset;
            for (int i = 0; i < a.size(); i++) {
                ResultsFile.DynamicsEntry e = a.get(i);
                String task = Labels.orDash(e.task());
                double acc = Stats.nan(e.accuracy());
                double[] rec = recovery(e.recovery(), acc);
                dynamics.add(new DynPoint(seed, stage, e.taskIndex() == null ? i : e.taskIndex(), task, Stats.nan(e.ivCosine()), acc,
                        Stats.nan(e.headJaccard()), rec[0], rec[1], rec[2]));
                if (e.knowledgeByTask() != null) {   // a pooled entry: each task's probe, named as in initial.knowledge
                    for (ResultsFile.Knowledge kn : e.knowledgeByTask()) {
                        addKnowledge(seed, stage, Labels.orDash(kn.task()), kn);
                    }
                } else if (e.knowledge() != null) {
                    addKnowledge(seed, stage, task, e.knowledge());
                }
            }
        }
    }

    private void addKnowledge(String seed, int stage, String task, ResultsFile.Knowledge kn) {
        double k = Stats.nan(kn.knowledgeP()), i = Stats.nan(kn.instructionP());
        if (Double.isFinite(k) || Double.isFinite(i)) {
            knowledge.add(new KnowPoint(seed, stage, task, k, i));
        }
    }

    /** {lost, regained, share} of a recovery entry (see {@link DynPoint}); NaN where absent. */
    private static double[] recovery(ResultsFile.Recovery r, double accuracy) {
        if (r == null) {
            return new double[] {Double.NaN, Double.NaN, Double.NaN};
        }
        double lost = Stats.nan(r.lost());
        if (r.regained() != null) {
            return new double[] {lost, r.regained(), Stats.nan(r.shareRegained())};
        }
        double regained = Stats.nan(r.accuracyWithPreIv()) - accuracy;
        Double share;
        try {
            share = RecoveryScore.share(lost, regained);
        } catch (RecoveryRangeException e) {   // an older file with scores outside [0, 1]: no share rather than a wrong one
            share = null;
        }
        return new double[] {lost, regained, share == null ? Double.NaN : share};
    }

    /** The metric over seeds (finite values only). */
    double[] metric(String k) {
        return seeds.values().stream().map(m -> m.get(k)).filter(v -> v != null && Double.isFinite(v))
                .mapToDouble(Double::doubleValue).toArray();
    }

    double summaryMean(String k) {
        return summary.containsKey(k) ? summary.get(k)[0] : Double.NaN;
    }

    double summarySd(String k) {
        return summary.containsKey(k) ? summary.get(k)[1] : Double.NaN;
    }

    int matrixCount() {
        return matrices.size();
    }

    /** Element-wise mean of the seeds' matrices (NaN where no seed has a value); null when none. */
    double[][] meanMatrix() {
        if (matrices.isEmpty()) {
            return null;
        }
        int rows = 0, cols = 0;
        for (double[][] m : matrices) {
            rows = Math.max(rows, m.length);
            cols = Math.max(cols, Stats.width(m));
        }
        double[][] out = new double[rows][cols];
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < cols; j++) {
                double s = 0;
                int n = 0;
                for (double[][] m : matrices) {
                    if (i < m.length && j < m[i].length && Double.isFinite(m[i][j])) {
                        s += m[i][j];
                        n++;
                    }
                }
                out[i][j] = n == 0 ? Double.NaN : s / n;
            }
        }
        return out;
    }

    /** Per task, per seed: knowledge and instruction probabilities at that seed's last stage. */
    Map<String, double[][]> finalKnowledge() {
        Map<String, Integer> lastStage = new LinkedHashMap<>();
        for (KnowPoint p : knowledge) {
            lastStage.merge(p.seed(), p.stage(), Math::max);
        }
        Map<String, List<double[]>> acc = new LinkedHashMap<>();
        for (KnowPoint p : knowledge) {
            if (p.stage() == lastStage.get(p.seed())) {
                acc.computeIfAbsent(p.task(), t -> new ArrayList<>()).add(new double[] {p.knowledge(), p.instruction()});
            }
        }
        Map<String, double[][]> out = new LinkedHashMap<>();
        acc.forEach((t, l) -> out.put(t, l.toArray(new double[0][])));
        return out;
    }
}
