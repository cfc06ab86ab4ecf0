package dev.ivkit.continual;

import java.util.ArrayList;
import java.util.List;

/** What a run has finished so far (state.json). */
final class RunState {
    String specFingerprint;
    int completed;
    List<double[]> rows = new ArrayList<>();
    List<Object> general = new ArrayList<>();
    List<Object> dynamics = new ArrayList<>();
    List<Double> trainLoss = new ArrayList<>();
}
