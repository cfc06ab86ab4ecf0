package dev.ivkit.data;

import java.util.List;

/** Disjoint train / valid / test lists of one task (see {@link TaskDataset#split(double, long)}). Immutable. */
public record Splits(List<TaskExample> train, List<TaskExample> valid, List<TaskExample> test) {
    /**
     * Copies the three lists (immutable).
     *
     * @param train the training examples
     * @param valid the validation examples
     * @param test the test examples
     */
    public Splits {
        train = List.copyOf(train);
        valid = List.copyOf(valid);
        test = List.copyOf(test);
    }

    /**
     * train + valid + test sizes.
     *
     * @return the number of examples in the three parts together
     */
    public int size() {
        return train.size() + valid.size() + test.size();
    }
}
