"""A private, real Orthanc server (Debian's ``orthanc`` and ``orthanc-dicomweb``) for the DICOMweb tests."""
