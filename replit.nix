{ pkgs }: {
  deps = [
    pkgs.python311
    pkgs.gnumake
    pkgs.postgresql_16
    pkgs.chromium
  ];
}
