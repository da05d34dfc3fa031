using System.Runtime.InteropServices;

internal static partial class Interop
{
    /// <summary>
    /// LAPACK/BLAS entry points of one provider, by their Fortran names verbatim (dpotrf_, dsyevd_, ...).
    /// </summary>
    /// <remarks>
    /// Why function pointers and not [LibraryImport]: the provider is picked at run time and tests load
    /// MKL and the reference LAPACK side by side in one process to cross-check them; a [LibraryImport]
    /// name resolves once per process. Unmanaged function pointers are as cheap as a direct P/Invoke,
    /// blittable, and need no marshalling stubs (Native-AOT safe).
    /// Fortran ABI: every argument by reference; integers are 32-bit (LP64 interface of both MKL's
    /// libmkl_rt and netlib's liblapack.so.3); each CHARACTER argument adds a hidden trailing length
    /// (size_t) that gfortran-built libraries expect and MKL ignores. All matrices are column-major:
    /// the wrappers in <see cref="GmmFlow.Native.Lapack"/> map GmmFlow's row-major data onto them.
    /// </remarks>
    internal sealed unsafe class LapackFunctions
    {
        // LAPACK
        public delegate* unmanaged<byte*, int*, double*, int*, int*, nuint, void> dpotrf_;
        public delegate* unmanaged<byte*, byte*, int*, double*, int*, int*, nuint, nuint, void> dtrtri_;
        public delegate* unmanaged<byte*, byte*, int*, double*, int*, double*, double*, int*, int*, int*, int*, nuint, nuint, void> dsyevd_;
        public delegate* unmanaged<int*, byte*, byte*, int*, double*, int*, double*, int*, double*, double*, int*, int*, int*, int*, nuint, nuint, void> dsygvd_;
        public delegate* unmanaged<byte*, int*, int*, double*, int*, double*, double*, int*, double*, int*, double*, int*, int*, int*, nuint, void> dgesdd_;
        public delegate* unmanaged<int*, int*, int*, void> ilaver_;

        // BLAS
        public delegate* unmanaged<byte*, byte*, int*, int*, int*, double*, double*, int*, double*, int*, double*, double*, int*, nuint, nuint, void> dgemm_;
        public delegate* unmanaged<byte*, byte*, byte*, byte*, int*, int*, double*, double*, int*, double*, int*, nuint, nuint, nuint, nuint, void> dtrsm_;
        public delegate* unmanaged<byte*, byte*, byte*, byte*, int*, int*, double*, double*, int*, double*, int*, nuint, nuint, nuint, nuint, void> dtrmm_;

        /// <summary>Resolves every entry point; LAPACK names from <paramref name="lapack"/>, BLAS names from <paramref name="blas"/>.</summary>
        public static bool TryResolve(nint lapack, nint blas, out LapackFunctions functions, out string? missing)
        {
            functions = new LapackFunctions();
            missing = null;
            bool ok = true;
            ok &= Get(lapack, "dpotrf_", out nint p, ref missing); functions.dpotrf_ = (delegate* unmanaged<byte*, int*, double*, int*, int*, nuint, void>)p;
            ok &= Get(lapack, "dtrtri_", out p, ref missing); functions.dtrtri_ = (delegate* unmanaged<byte*, byte*, int*, double*, int*, int*, nuint, nuint, void>)p;
            ok &= Get(lapack, "dsyevd_", out p, ref missing); functions.dsyevd_ = (delegate* unmanaged<byte*, byte*, int*, double*, int*, double*, double*, int*, int*, int*, int*, nuint, nuint, void>)p;
            ok &= Get(lapack, "dsygvd_", out p, ref missing); functions.dsygvd_ = (delegate* unmanaged<int*, byte*, byte*, int*, double*, int*, double*, int*, double*, double*, int*, int*, int*, int*, nuint, nuint, void>)p;
            ok &= Get(lapack, "dgesdd_", out p, ref missing); functions.dgesdd_ = (delegate* unmanaged<byte*, int*, int*, double*, int*, double*, double*, int*, double*, int*, double*, int*, int*, int*, nuint, void>)p;
            ok &= Get(lapack, "ilaver_", out p, ref missing); functions.ilaver_ = (delegate* unmanaged<int*, int*, int*, void>)p;
            ok &= Get(blas, "dgemm_", out p, ref missing); functions.dgemm_ = (delegate* unmanaged<byte*, byte*, int*, int*, int*, double*, double*, int*, double*, int*, double*, double*, int*, nuint, nuint, void>)p;
            ok &= Get(blas, "dtrsm_", out p, ref missing); functions.dtrsm_ = (delegate* unmanaged<byte*, byte*, byte*, byte*, int*, int*, double*, double*, int*, double*, int*, nuint, nuint, nuint, nuint, void>)p;
            ok &= Get(blas, "dtrmm_", out p, ref missing); functions.dtrmm_ = (delegate* unmanaged<byte*, byte*, byte*, byte*, int*, int*, double*, double*, int*, double*, int*, nuint, nuint, nuint, nuint, void>)p;
            return ok;

            static bool Get(nint lib, string name, out nint address, ref string? missing)
            {
                if (NativeLibrary.TryGetExport(lib, name, out address))
                {
                    return true;
                }
                missing = missing is null ? name : missing + ", " + name;
                return false;
            }
        }
    }

    /// <summary>MKL service functions (only in libmkl_rt).</summary>
    internal sealed unsafe class MklService
    {
        /// <summary>int MKL_Set_Threading_Layer(int code); code 1 = MKL_THREADING_SEQUENTIAL.</summary>
        public delegate* unmanaged<int, int> MKL_Set_Threading_Layer;

        /// <summary>void MKL_Get_Version_String(char* buffer, int len).</summary>
        public delegate* unmanaged<byte*, int, void> MKL_Get_Version_String;

        /// <summary>int MKL_CBWR_Set(int setting): conditional numerical reproducibility; null when the library lacks it.</summary>
        public delegate* unmanaged<int, int> MKL_CBWR_Set;

        public const int MKL_THREADING_SEQUENTIAL = 1;

        /// <summary>MKL_CBWR_AUTO: CNR on, with the code branch MKL would pick anyway for this CPU.</summary>
        public const int MKL_CBWR_AUTO = 2;

        public static bool TryResolve(nint mkl, out MklService service)
        {
            service = new MklService();
            if (!NativeLibrary.TryGetExport(mkl, "MKL_Set_Threading_Layer", out nint set) ||
                !NativeLibrary.TryGetExport(mkl, "MKL_Get_Version_String", out nint version))
            {
                return false;
            }
            service.MKL_Set_Threading_Layer = (delegate* unmanaged<int, int>)set;
            service.MKL_Get_Version_String = (delegate* unmanaged<byte*, int, void>)version;
            if (NativeLibrary.TryGetExport(mkl, "MKL_CBWR_Set", out nint cbwr))
            {
                service.MKL_CBWR_Set = (delegate* unmanaged<int, int>)cbwr;
            }
            return true;
        }
    }
}
