namespace GmmFlow;

/// <summary>Order statistics without a full sort.</summary>
internal static class Selection
{
    /// <summary>
    /// The median of <paramref name="values"/> (mean of the two middle values for even length), reordering the array.
    /// Hoare's quickselect with a median-of-three pivot: expected O(n).
    /// </summary>
    public static double Median(double[] values)
    {
        int n = values.Length;
        double upper = Select(values, n / 2);
        if (n % 2 == 1)
        {
            return upper;
        }
        // After selecting rank n/2, everything left of it is ≤ it: the lower middle is the maximum of that part.
        double lower = double.NegativeInfinity;
        for (int i = 0; i < n / 2; i++)
        {
            lower = Math.Max(lower, values[i]);
        }
        return 0.5 * (lower + upper);
    }

    /// <summary>The value of rank <paramref name="k"/> (0-based); afterwards values[..k] ≤ values[k] ≤ values[k+1..].</summary>
    public static double Select(double[] values, int k)
    {
        int lo = 0, hi = values.Length - 1;
        while (lo < hi)
        {
            int mid = lo + (hi - lo) / 2;
            // Median of three as pivot, moved to values[mid].
            if (values[mid] < values[lo]) (values[mid], values[lo]) = (values[lo], values[mid]);
            if (values[hi] < values[lo]) (values[hi], values[lo]) = (values[lo], values[hi]);
            if (values[hi] < values[mid]) (values[hi], values[mid]) = (values[mid], values[hi]);
            double pivot = values[mid];
            int i = lo, j = hi;
            while (i <= j)
            {
                while (values[i] < pivot) i++;
                while (values[j] > pivot) j--;
                if (i <= j)
                {
                    (values[i], values[j]) = (values[j], values[i]);
                    i++;
                    j--;
                }
            }
            if (k <= j) hi = j;
            else if (k >= i) lo = i;
            else return values[k];
        }
        return values[k];
    }
}
