`default_nettype none

// The virtio-dmabuf endpoint (hw/endpoints/virtio-dmabuf.yaml, through the generated
// virtio_dmabuf_ep_pkg; VirtioPciEndpointModel in the model): PCI configuration space, BAR0 (common
// configuration, ISR, notify region), BAR1 (MSI-X table and PBA), the firmware CSR port and the MSI
// output. The description has no BAR2, shared memory or device configuration, so this top has no
// bar2_ port and no memory master: the virtio device on its PCI function (ep_virtio_pci) is all of
// it. hw/rtl/endpoint/README.md has the port contract.
module dmabuf_endpoint_top #(
  parameter bit EMULATE_HEADER = 1'b1,  // 0: vendor hard IP owns the type-0 header; cfg_ reads the capabilities
  parameter int unsigned CfgAw  = 12,
  parameter int unsigned Bar0Aw = virtio_dmabuf_ep_pkg::BAR0_AW,
  parameter int unsigned Bar1Aw = virtio_dmabuf_ep_pkg::BAR1_AW,
  parameter int unsigned FwAw   = 12
) (
  input  wire logic          clk_i,
  input  wire logic          rst_ni,
  // AXI4-Lite slave cfg_*
  input  wire logic [CfgAw-1:0] cfg_awaddr_i,
  input  wire logic          cfg_awvalid_i,
  output logic               cfg_awready_o,
  input  wire logic [31:0]   cfg_wdata_i,
  input  wire logic [3:0]    cfg_wstrb_i,
  input  wire logic          cfg_wvalid_i,
  output logic               cfg_wready_o,
  output logic [1:0]         cfg_bresp_o,
  output logic               cfg_bvalid_o,
  input  wire logic          cfg_bready_i,
  input  wire logic [CfgAw-1:0] cfg_araddr_i,
  input  wire logic          cfg_arvalid_i,
  output logic               cfg_arready_o,
  output logic [31:0]        cfg_rdata_o,
  output logic [1:0]         cfg_rresp_o,
  output logic               cfg_rvalid_o,
  input  wire logic          cfg_rready_i,
  // AXI4-Lite slave bar0_*
  input  wire logic [Bar0Aw-1:0] bar0_awaddr_i,
  input  wire logic          bar0_awvalid_i,
  output logic               bar0_awready_o,
  input  wire logic [31:0]   bar0_wdata_i,
  input  wire logic [3:0]    bar0_wstrb_i,
  input  wire logic          bar0_wvalid_i,
  output logic               bar0_wready_o,
  output logic [1:0]         bar0_bresp_o,
  output logic               bar0_bvalid_o,
  input  wire logic          bar0_bready_i,
  input  wire logic [Bar0Aw-1:0] bar0_araddr_i,
  input  wire logic          bar0_arvalid_i,
  output logic               bar0_arready_o,
  output logic [31:0]        bar0_rdata_o,
  output logic [1:0]         bar0_rresp_o,
  output logic               bar0_rvalid_o,
  input  wire logic          bar0_rready_i,
  // AXI4-Lite slave bar1_*
  input  wire logic [Bar1Aw-1:0] bar1_awaddr_i,
  input  wire logic          bar1_awvalid_i,
  output logic               bar1_awready_o,
  input  wire logic [31:0]   bar1_wdata_i,
  input  wire logic [3:0]    bar1_wstrb_i,
  input  wire logic          bar1_wvalid_i,
  output logic               bar1_wready_o,
  output logic [1:0]         bar1_bresp_o,
  output logic               bar1_bvalid_o,
  input  wire logic          bar1_bready_i,
  input  wire logic [Bar1Aw-1:0] bar1_araddr_i,
  input  wire logic          bar1_arvalid_i,
  output logic               bar1_arready_o,
  output logic [31:0]        bar1_rdata_o,
  output logic [1:0]         bar1_rresp_o,
  output logic               bar1_rvalid_o,
  input  wire logic          bar1_rready_i,
  // AXI4-Lite slave fw_*
  input  wire logic [FwAw-1:0] fw_awaddr_i,
  input  wire logic          fw_awvalid_i,
  output logic               fw_awready_o,
  input  wire logic [31:0]   fw_wdata_i,
  input  wire logic [3:0]    fw_wstrb_i,
  input  wire logic          fw_wvalid_i,
  output logic               fw_wready_o,
  output logic [1:0]         fw_bresp_o,
  output logic               fw_bvalid_o,
  input  wire logic          fw_bready_i,
  input  wire logic [FwAw-1:0] fw_araddr_i,
  input  wire logic          fw_arvalid_i,
  output logic               fw_arready_o,
  output logic [31:0]        fw_rdata_o,
  output logic [1:0]         fw_rresp_o,
  output logic               fw_rvalid_o,
  input  wire logic          fw_rready_i,
  // MSI messages
  output logic               msi_valid_o,
  input  wire logic          msi_ready_i,
  output logic [63:0]        msi_addr_o,
  output logic [31:0]        msi_data_o,
  // The firmware event FIFO is not empty
  output logic               fw_irq_o
);

  localparam logic [47:0] BarAw = {8'(virtio_dmabuf_ep_pkg::BAR5_AW), 8'(virtio_dmabuf_ep_pkg::BAR4_AW), 8'(virtio_dmabuf_ep_pkg::BAR3_AW),
                                    8'(virtio_dmabuf_ep_pkg::BAR2_AW), 8'(virtio_dmabuf_ep_pkg::BAR1_AW), 8'(virtio_dmabuf_ep_pkg::BAR0_AW)};
  localparam int unsigned ReqW  = axil_pkg::AXIL_REQ_W;
  localparam int unsigned RspW  = axil_pkg::AXIL_RSP_W;

  // ---- the flat ports as AXI4-Lite structs ----

  axil_pkg::axil_req_t cfg_req, bar0_req, bar1_req, fw_req;
  axil_pkg::axil_rsp_t cfg_rsp, bar0_rsp, bar1_rsp, fw_rsp;
  `AXIL_FLAT_SLAVE(cfg_, cfg_req, cfg_rsp)
  `AXIL_FLAT_SLAVE(bar0_, bar0_req, bar0_rsp)
  `AXIL_FLAT_SLAVE(bar1_, bar1_req, bar1_rsp)
  `AXIL_FLAT_SLAVE(fw_, fw_req, fw_rsp)

  logic [6*ReqW-1:0] bar_req;
  logic [6*RspW-1:0] bar_rsp;
  assign bar_req = {{(4*ReqW){1'b0}}, bar1_req, bar0_req};
  assign bar0_rsp = bar_rsp[RspW*0+:RspW];
  assign bar1_rsp = bar_rsp[RspW*1+:RspW];

  // ---- the virtio device on its PCI function: everything this personality has ----

  ep_virtio_pci #(
    .EmulateHeader    (EMULATE_HEADER),
    .CfgAw            (CfgAw),
    .FwAw             (FwAw),
    .VendorId         (virtio_dmabuf_ep_pkg::VENDOR_ID),
    .DeviceId         (virtio_dmabuf_ep_pkg::DEVICE_ID),
    .RevisionId       (virtio_dmabuf_ep_pkg::REVISION_ID),
    .BaseClass        (virtio_dmabuf_ep_pkg::BASE_CLASS),
    .Subclass         (virtio_dmabuf_ep_pkg::SUBCLASS),
    .ProgIf           (virtio_dmabuf_ep_pkg::PROG_IF),
    .SubsystemVendorId(virtio_dmabuf_ep_pkg::SUBSYSTEM_VENDOR_ID),
    .SubsystemId      (virtio_dmabuf_ep_pkg::SUBSYSTEM_ID),
    .CapPtr           (virtio_dmabuf_ep_pkg::CAP_PTR),
    .BarAw            (BarAw),
    .BarWmask         (virtio_dmabuf_ep_pkg::BAR_WMASK),
    .BarType          (virtio_dmabuf_ep_pkg::BAR_TYPE),
    .CapRom           (virtio_dmabuf_ep_pkg::CAP_ROM),
    .MsixCapOffset    (virtio_dmabuf_ep_pkg::MSIX_CAP_OFFSET),
    .PciCfgCapOffset  (virtio_dmabuf_ep_pkg::PCI_CFG_CAP_OFFSET),
    .MsixVectors      (virtio_dmabuf_ep_pkg::MSIX_VECTORS),
    .MsixBar          (virtio_dmabuf_ep_pkg::MSIX_TABLE_BAR),
    .MsixTableOffset  (virtio_dmabuf_ep_pkg::MSIX_TABLE_OFFSET),
    .MsixPbaOffset    (virtio_dmabuf_ep_pkg::MSIX_PBA_OFFSET),
    .EventDepth       (virtio_dmabuf_ep_pkg::EVENT_FIFO_DEPTH),
    .VirtioDeviceId   (virtio_dmabuf_ep_pkg::VIRTIO_DEVICE_ID),
    .ChunkSlots       (0),
    .VirtioBar        (virtio_dmabuf_ep_pkg::COMMON_BAR),
    .Queues           (virtio_dmabuf_ep_pkg::QUEUES),
    .CommonOffset     (virtio_dmabuf_ep_pkg::COMMON_OFFSET),
    .CommonLength     (virtio_dmabuf_ep_pkg::COMMON_LENGTH),
    .IsrOffset        (virtio_dmabuf_ep_pkg::ISR_OFFSET),
    .IsrLength        (virtio_dmabuf_ep_pkg::ISR_LENGTH),
    .NotifyOffset     (virtio_dmabuf_ep_pkg::NOTIFY_OFFSET),
    .NotifyLength     (virtio_dmabuf_ep_pkg::NOTIFY_LENGTH),
    .NotifyOffMultiplier(virtio_dmabuf_ep_pkg::NOTIFY_OFF_MULTIPLIER),
    .HasDeviceCfg     (virtio_dmabuf_ep_pkg::HAS_DEVICE_CFG),
    .XP               (0)
  ) u_virtio (
    .clk_i       (clk_i),
    .rst_ni      (rst_ni),
    .cfg_req_i   (cfg_req),
    .cfg_rsp_o   (cfg_rsp),
    .bar_req_i   (bar_req),
    .bar_rsp_o   (bar_rsp),
    .fw_req_i    (fw_req),
    .fw_rsp_o    (fw_rsp),
    .dev_req_o   (),
    .dev_rsp_i   ('0),  // no BAR besides the virtio and MSI-X ones
    .devcfg_req_o(),
    .devcfg_rsp_i('0),  // no device configuration
    .fw_reg2hw_o (),
    .bus_master_o(),
    .push_i      (1'b0),
    .push_kind_i (8'h0),
    .push_data_i (32'h0),
    .push_grant_o(),
    .fw_irq_o    (fw_irq_o),
    .msi_valid_o (msi_valid_o),
    .msi_ready_i (msi_ready_i),
    .msi_addr_o  (msi_addr_o),
    .msi_data_o  (msi_data_o)
  );

endmodule

`default_nettype wire
