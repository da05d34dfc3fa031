namespace GmmFlow;

/// <summary>Which LAPACK implementation GmmFlow calls. Select with the GMMFLOW_LAPACK environment variable (mkl | system).</summary>
public enum LapackProviderKind
{
    /// <summary>Intel MKL (libmkl_rt), sequential threading layer; GmmFlow parallelises over batches itself.</summary>
    Mkl,

    /// <summary>The system LAPACK/BLAS (liblapack.so.3, libblas.so.3): netlib's reference implementation unless replaced.</summary>
    System,
}
