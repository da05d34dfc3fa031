using System.Runtime.InteropServices;
using GmmFlow.Native;
using GmmFlow.Native.Highs;

// HiGHS C API (highs/interfaces/highs_c_api.h, HiGHS 1.12). Names are the native names verbatim.
// HighsInt is int here: HighsLibrary.EnsureLoaded checks Highs_getSizeofHighsInt == 4 before first use.
// Signatures are blittable (pointers, numbers) except the instance, which is a SafeHandle marshalled by
// the LibraryImport source generator (AddRef/Release around each call, no runtime marshalling).
// Strings are NUL-terminated UTF-8 byte* built by the caller (u8 literals or stackalloc).
internal static unsafe partial class Interop
{
    internal static unsafe partial class Highs
    {
        // The resolver must be in place before the runtime binds the first P/Invoke of this class; a static
        // constructor runs before any static method of the class is called, also under Native AOT.
        static Highs() => NativeLibraryResolver.EnsureRegistered();

        // kHighsStatus*: return codes of most calls.
        internal const int kHighsStatusError = -1;
        internal const int kHighsStatusOk = 0;
        internal const int kHighsStatusWarning = 1;

        internal const int kHighsMatrixFormatColwise = 1;
        internal const int kHighsMatrixFormatRowwise = 2;

        internal const int kHighsObjSenseMinimize = 1;

        [LibraryImport(Libraries.Highs)]
        internal static partial SafeHighsHandle Highs_create();

        [LibraryImport(Libraries.Highs)]
        internal static partial void Highs_destroy(IntPtr highs);

        /// <summary>Returns a static NUL-terminated string owned by HiGHS; do not free.</summary>
        [LibraryImport(Libraries.Highs)]
        internal static partial byte* Highs_version();

        [LibraryImport(Libraries.Highs)]
        internal static partial int Highs_versionMajor();

        [LibraryImport(Libraries.Highs)]
        internal static partial int Highs_versionMinor();

        [LibraryImport(Libraries.Highs)]
        internal static partial int Highs_versionPatch();

        /// <summary>Returns a static NUL-terminated string owned by HiGHS; do not free.</summary>
        [LibraryImport(Libraries.Highs)]
        internal static partial byte* Highs_githash();

        [LibraryImport(Libraries.Highs)]
        internal static partial int Highs_getSizeofHighsInt(SafeHighsHandle highs);

        [LibraryImport(Libraries.Highs)]
        internal static partial double Highs_getInfinity(SafeHighsHandle highs);

        [LibraryImport(Libraries.Highs)]
        internal static partial int Highs_passLp(
            SafeHighsHandle highs, int num_col, int num_row, int num_nz, int a_format, int sense, double offset,
            double* col_cost, double* col_lower, double* col_upper, double* row_lower, double* row_upper,
            int* a_start, int* a_index, double* a_value);

        /// <summary>Appends columns (CSC, <paramref name="starts"/> of length num_new_col) to the model, keeping the current basis.</summary>
        [LibraryImport(Libraries.Highs)]
        internal static partial int Highs_addCols(
            SafeHighsHandle highs, int num_new_col, double* costs, double* lower, double* upper,
            int num_new_nz, int* starts, int* indices, double* values);

        /// <summary>Removes the model and everything derived from it (solution, basis, simplex data); options are kept.</summary>
        [LibraryImport(Libraries.Highs)]
        internal static partial int Highs_clearModel(SafeHighsHandle highs);

        /// <summary>Resets HiGHS' run clock, which time_limit is checked against and which otherwise accumulates over runs.</summary>
        [LibraryImport(Libraries.Highs)]
        internal static partial int Highs_zeroAllClocks(SafeHighsHandle highs);

        [LibraryImport(Libraries.Highs)]
        internal static partial int Highs_getNumCol(SafeHighsHandle highs);

        [LibraryImport(Libraries.Highs)]
        internal static partial int Highs_getNumRow(SafeHighsHandle highs);

        [LibraryImport(Libraries.Highs)]
        internal static partial int Highs_run(SafeHighsHandle highs);

        [LibraryImport(Libraries.Highs)]
        internal static partial int Highs_getModelStatus(SafeHighsHandle highs);

        [LibraryImport(Libraries.Highs)]
        internal static partial double Highs_getObjectiveValue(SafeHighsHandle highs);

        /// <summary>Any of the four arrays may be null (not requested).</summary>
        [LibraryImport(Libraries.Highs)]
        internal static partial int Highs_getSolution(SafeHighsHandle highs, double* col_value, double* col_dual, double* row_value, double* row_dual);

        [LibraryImport(Libraries.Highs)]
        internal static partial int Highs_setBoolOptionValue(SafeHighsHandle highs, byte* option, int value);

        [LibraryImport(Libraries.Highs)]
        internal static partial int Highs_setIntOptionValue(SafeHighsHandle highs, byte* option, int value);

        [LibraryImport(Libraries.Highs)]
        internal static partial int Highs_setDoubleOptionValue(SafeHighsHandle highs, byte* option, double value);

        [LibraryImport(Libraries.Highs)]
        internal static partial int Highs_setStringOptionValue(SafeHighsHandle highs, byte* option, byte* value);

        [LibraryImport(Libraries.Highs)]
        internal static partial int Highs_getIntOptionValue(SafeHighsHandle highs, byte* option, int* value);

        [LibraryImport(Libraries.Highs)]
        internal static partial int Highs_getIntInfoValue(SafeHighsHandle highs, byte* info, int* value);

        [LibraryImport(Libraries.Highs)]
        internal static partial int Highs_getDoubleInfoValue(SafeHighsHandle highs, byte* info, double* value);

        /// <summary>Basis status per column and row as kHighsBasisStatus constants (0 lower, 1 basic, 2 upper, 3 zero, 4 nonbasic).</summary>
        [LibraryImport(Libraries.Highs)]
        internal static partial int Highs_setBasis(SafeHighsHandle highs, int* col_status, int* row_status);

        [LibraryImport(Libraries.Highs)]
        internal static partial int Highs_getBasis(SafeHighsHandle highs, int* col_status, int* row_status);

        [LibraryImport(Libraries.Highs)]
        internal static partial double Highs_getRunTime(SafeHighsHandle highs);

        /// <summary>Destroys HiGHS' process-wide thread scheduler; the next run creates one again. No run may be in flight.</summary>
        [LibraryImport(Libraries.Highs)]
        internal static partial void Highs_resetGlobalScheduler(int blocking);
    }
}
