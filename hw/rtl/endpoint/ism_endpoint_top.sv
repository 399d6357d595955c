`default_nettype none

// The virtio-ism endpoint (hw/endpoints/virtio-ism.yaml, through the generated virtio_ism_ep_pkg;
// VirtioPciEndpointModel in the model): PCI configuration space, BAR0 (common configuration, ISR,
// notify region, device configuration), BAR1 (MSI-X table and PBA), BAR2 (the chunk window and the
// ISM notify area), the firmware CSR port, the memory master behind the chunk window and the MSI
// output. hw/rtl/endpoint/README.md has the port contract.
module ism_endpoint_top #(
  parameter bit EMULATE_HEADER = 1'b1,  // 0: vendor hard IP owns the type-0 header; cfg_ reads the capabilities
  parameter int unsigned CfgAw  = 12,
  parameter int unsigned Bar0Aw = virtio_ism_ep_pkg::BAR0_AW,
  parameter int unsigned Bar1Aw = virtio_ism_ep_pkg::BAR1_AW,
  parameter int unsigned Bar2Aw = virtio_ism_ep_pkg::BAR2_AW,
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
  // AXI4-Lite slave bar2_*
  input  wire logic [Bar2Aw-1:0] bar2_awaddr_i,
  input  wire logic          bar2_awvalid_i,
  output logic               bar2_awready_o,
  input  wire logic [31:0]   bar2_wdata_i,
  input  wire logic [3:0]    bar2_wstrb_i,
  input  wire logic          bar2_wvalid_i,
  output logic               bar2_wready_o,
  output logic [1:0]         bar2_bresp_o,
  output logic               bar2_bvalid_o,
  input  wire logic          bar2_bready_i,
  input  wire logic [Bar2Aw-1:0] bar2_araddr_i,
  input  wire logic          bar2_arvalid_i,
  output logic               bar2_arready_o,
  output logic [31:0]        bar2_rdata_o,
  output logic [1:0]         bar2_rresp_o,
  output logic               bar2_rvalid_o,
  input  wire logic          bar2_rready_i,
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
  // Memory master: BAR2 chunk window accesses, in backing memory
  output logic               mem_req_o,
  output logic               mem_sys_o,   // the request is for host system memory (a system-memory chunk slot)
  output logic               mem_we_o,
  output logic [63:0]        mem_addr_o,
  output logic [3:0]         mem_be_o,
  output logic [31:0]        mem_wdata_o,
  input  wire logic          mem_ack_i,
  input  wire logic [31:0]   mem_rdata_i,
  // MSI messages
  output logic               msi_valid_o,
  input  wire logic          msi_ready_i,
  output logic [63:0]        msi_addr_o,
  output logic [31:0]        msi_data_o,
  // The firmware event FIFO is not empty
  output logic               fw_irq_o
);

  localparam int unsigned Queues  = virtio_ism_ep_pkg::QUEUES;
  localparam int unsigned Vectors = virtio_ism_ep_pkg::MSIX_VECTORS;

  // Structure windows inside the BARs (the description places each in one BAR).
  function automatic in_window(input [63:0] addr, input [63:0] offset, input [63:0] length);
    in_window = addr >= offset && addr - offset < length;
  endfunction

  // ---- host ports into register blocks and local targets ----
  logic [CfgAw-1:0]      cfg_dec_addr, cfg_m_addr;
  logic                cfg_dec_we;
  logic [2:0]        cfg_dec_sel;
  logic [31:0]         cfg_m_wdata;
  logic [3:0]          cfg_m_wstrb;
  logic [2:0]        cfg_m_awvalid, cfg_m_awready, cfg_m_wvalid, cfg_m_wready;
  logic [2:0]        cfg_m_bvalid, cfg_m_bready, cfg_m_arvalid, cfg_m_arready;
  logic [95:0]      cfg_m_rdata;
  logic [2:0]        cfg_m_rvalid, cfg_m_rready;
  logic                cfg_loc_req, cfg_loc_ack;
  logic [31:0]         cfg_loc_rdata;
  logic [Bar0Aw-1:0]      bar0_dec_addr, bar0_m_addr;
  logic                bar0_dec_we;
  logic [2:0]        bar0_dec_sel;
  logic [31:0]         bar0_m_wdata;
  logic [3:0]          bar0_m_wstrb;
  logic [2:0]        bar0_m_awvalid, bar0_m_awready, bar0_m_wvalid, bar0_m_wready;
  logic [2:0]        bar0_m_bvalid, bar0_m_bready, bar0_m_arvalid, bar0_m_arready;
  logic [95:0]      bar0_m_rdata;
  logic [2:0]        bar0_m_rvalid, bar0_m_rready;
  logic                bar0_loc_req, bar0_loc_ack;
  logic [31:0]         bar0_loc_rdata;
  logic [Bar1Aw-1:0]      bar1_dec_addr, bar1_m_addr;
  logic                bar1_dec_we;
  logic [1:0]        bar1_dec_sel;
  logic [31:0]         bar1_m_wdata;
  logic [3:0]          bar1_m_wstrb;
  logic [1:0]        bar1_m_awvalid, bar1_m_awready, bar1_m_wvalid, bar1_m_wready;
  logic [1:0]        bar1_m_bvalid, bar1_m_bready, bar1_m_arvalid, bar1_m_arready;
  logic [63:0]      bar1_m_rdata;
  logic [1:0]        bar1_m_rvalid, bar1_m_rready;
  logic                bar1_loc_req, bar1_loc_ack;
  logic [31:0]         bar1_loc_rdata;
  logic [Bar2Aw-1:0]      bar2_dec_addr, bar2_m_addr;
  logic                bar2_dec_we;
  logic [0:0]        bar2_dec_sel;
  logic [31:0]         bar2_m_wdata;
  logic [3:0]          bar2_m_wstrb;
  logic [0:0]        bar2_m_awvalid, bar2_m_awready, bar2_m_wvalid, bar2_m_wready;
  logic [0:0]        bar2_m_bvalid, bar2_m_bready, bar2_m_arvalid, bar2_m_arready;
  logic [31:0]      bar2_m_rdata;
  logic [0:0]        bar2_m_rvalid, bar2_m_rready;
  logic                bar2_loc_req, bar2_loc_ack;
  logic [31:0]         bar2_loc_rdata;

  pci_header_reg_pkg::pci_header_reg2hw_t                   header_reg2hw;
  pci_header_reg_pkg::pci_header_hw2reg_t                   header_hw2reg;
  msix_cap_reg_pkg::msix_cap_reg2hw_t                       msix_cap_reg2hw;
  msix_cap_reg_pkg::msix_cap_hw2reg_t                       msix_cap_hw2reg;
  virtio_pci_cfg_cap_reg_pkg::virtio_pci_cfg_cap_reg2hw_t   cfg_cap_reg2hw;
  virtio_pci_cfg_cap_reg_pkg::virtio_pci_cfg_cap_hw2reg_t   cfg_cap_hw2reg;
  virtio_common_cfg_reg_pkg::virtio_common_cfg_reg2hw_t     common_reg2hw;
  virtio_common_cfg_reg_pkg::virtio_common_cfg_hw2reg_t     common_hw2reg;
  virtio_isr_reg_pkg::virtio_isr_reg2hw_t                   isr_reg2hw;
  virtio_isr_reg_pkg::virtio_isr_hw2reg_t                   isr_hw2reg;
  ism_config_reg_pkg::ism_config_reg2hw_t                   devcfg_reg2hw;
  ism_config_reg_pkg::ism_config_hw2reg_t                   devcfg_hw2reg;
  msix_table_reg_pkg::msix_table_reg2hw_t                   msix_table_reg2hw;
  msix_table_reg_pkg::msix_table_hw2reg_t                   msix_table_hw2reg;
  msix_pba_reg_pkg::msix_pba_reg2hw_t                       msix_pba_reg2hw;
  msix_pba_reg_pkg::msix_pba_hw2reg_t                       msix_pba_hw2reg;
  fw_csr_reg_pkg::fw_csr_reg2hw_t                           fw_csr_reg2hw;
  fw_csr_reg_pkg::fw_csr_hw2reg_t                           fw_csr_hw2reg;

  ep_axil_demux #(.N(3), .AW(CfgAw)) u_cfg_demux (
    .clk_i           (clk_i),
    .rst_ni          (rst_ni),
    .s_axil_awaddr_i (cfg_awaddr_i),
    .s_axil_awvalid_i(cfg_awvalid_i),
    .s_axil_awready_o(cfg_awready_o),
    .s_axil_wdata_i  (cfg_wdata_i),
    .s_axil_wstrb_i  (cfg_wstrb_i),
    .s_axil_wvalid_i (cfg_wvalid_i),
    .s_axil_wready_o (cfg_wready_o),
    .s_axil_bresp_o  (cfg_bresp_o),
    .s_axil_bvalid_o (cfg_bvalid_o),
    .s_axil_bready_i (cfg_bready_i),
    .s_axil_araddr_i (cfg_araddr_i),
    .s_axil_arvalid_i(cfg_arvalid_i),
    .s_axil_arready_o(cfg_arready_o),
    .s_axil_rdata_o  (cfg_rdata_o),
    .s_axil_rresp_o  (cfg_rresp_o),
    .s_axil_rvalid_o (cfg_rvalid_o),
    .s_axil_rready_i (cfg_rready_i),
    .dec_addr_o      (cfg_dec_addr),
    .dec_we_o        (cfg_dec_we),
    .dec_sel_i       (cfg_dec_sel),
    .m_addr_o        (cfg_m_addr),
    .m_wdata_o       (cfg_m_wdata),
    .m_wstrb_o       (cfg_m_wstrb),
    .m_awvalid_o     (cfg_m_awvalid),
    .m_awready_i     (cfg_m_awready),
    .m_wvalid_o      (cfg_m_wvalid),
    .m_wready_i      (cfg_m_wready),
    .m_bvalid_i      (cfg_m_bvalid),
    .m_bready_o      (cfg_m_bready),
    .m_arvalid_o     (cfg_m_arvalid),
    .m_arready_i     (cfg_m_arready),
    .m_rdata_i       (cfg_m_rdata),
    .m_rvalid_i      (cfg_m_rvalid),
    .m_rready_o      (cfg_m_rready),
    .loc_req_o       (cfg_loc_req),
    .loc_ack_i       (cfg_loc_ack),
    .loc_rdata_i     (cfg_loc_rdata)
  );

  // ---- the PCI cfg access window: pci_cfg_data reaches the BAR the capability names ----

  logic [31:0]  win_addr, win_wdata;
  logic [3:0]   win_wstrb;
  logic [5:0]   win_awvalid, win_awready, win_wvalid, win_wready, win_bvalid, win_bready;
  logic [5:0]   win_arvalid, win_arready, win_rvalid, win_rready;
  logic [191:0] win_rdata;
  logic         win_ack;
  logic [31:0]  win_rdata_cfg;  // what pci_cfg_data reads
  // BARs this top has no port for never get a request (the window answers 0 itself).
  assign win_awready[3] = 1'b0;
  assign win_wready[3]  = 1'b0;
  assign win_bvalid[3]  = 1'b0;
  assign win_arready[3] = 1'b0;
  assign win_rdata[32*3+:32] = 32'h0;
  assign win_rvalid[3]  = 1'b0;
  assign win_awready[4] = 1'b0;
  assign win_wready[4]  = 1'b0;
  assign win_bvalid[4]  = 1'b0;
  assign win_arready[4] = 1'b0;
  assign win_rdata[32*4+:32] = 32'h0;
  assign win_rvalid[4]  = 1'b0;
  assign win_awready[5] = 1'b0;
  assign win_wready[5]  = 1'b0;
  assign win_bvalid[5]  = 1'b0;
  assign win_arready[5] = 1'b0;
  assign win_rdata[32*5+:32] = 32'h0;
  assign win_rvalid[5]  = 1'b0;

  ep_pci_cfg_window #(
    .BarPresent(6'b000111),
    .BarAw     ({8'(virtio_ism_ep_pkg::BAR5_AW), 8'(virtio_ism_ep_pkg::BAR4_AW), 8'(virtio_ism_ep_pkg::BAR3_AW), 8'(virtio_ism_ep_pkg::BAR2_AW), 8'(virtio_ism_ep_pkg::BAR1_AW), 8'(virtio_ism_ep_pkg::BAR0_AW)})
  ) u_cfg_window (
    .clk_i      (clk_i),
    .rst_ni     (rst_ni),
    .re_i       (cfg_cap_reg2hw.pci_cfg_data.re),
    .we_i       (cfg_cap_reg2hw.pci_cfg_data.we),
    .wdata_i    (cfg_cap_reg2hw.pci_cfg_data.wdata),
    .ack_o      (win_ack),
    .rdata_o    (win_rdata_cfg),
    .bar_i      (cfg_cap_reg2hw.bar.bar.q),
    .offset_i   (cfg_cap_reg2hw.offset.offset.q),
    .length_i   (cfg_cap_reg2hw.length.length.q),
    .m_addr_o   (win_addr),
    .m_wdata_o  (win_wdata),
    .m_wstrb_o  (win_wstrb),
    .m_awvalid_o(win_awvalid),
    .m_awready_i(win_awready),
    .m_wvalid_o (win_wvalid),
    .m_wready_i (win_wready),
    .m_bvalid_i (win_bvalid),
    .m_bready_o (win_bready),
    .m_arvalid_o(win_arvalid),
    .m_arready_i(win_arready),
    .m_rdata_i  (win_rdata),
    .m_rvalid_i (win_rvalid),
    .m_rready_o (win_rready)
  );

  logic [Bar0Aw-1:0] bar0_a_awaddr, bar0_a_araddr;
  logic              bar0_a_awvalid, bar0_a_awready, bar0_a_wvalid, bar0_a_wready, bar0_a_bvalid, bar0_a_bready;
  logic              bar0_a_arvalid, bar0_a_arready, bar0_a_rvalid, bar0_a_rready;
  logic [31:0]       bar0_a_wdata, bar0_a_rdata;
  logic [3:0]        bar0_a_wstrb;
  logic [1:0]        bar0_a_bresp, bar0_a_rresp;

  // The host's BAR0 port and the PCI cfg access window share the BAR0 demux.
  ep_axil_arb #(.AW(Bar0Aw)) u_bar0_arb (
    .clk_i       (clk_i),
    .rst_ni      (rst_ni),
    .s0_awaddr_i (bar0_awaddr_i),
    .s0_awvalid_i(bar0_awvalid_i),
    .s0_awready_o(bar0_awready_o),
    .s0_wdata_i  (bar0_wdata_i),
    .s0_wstrb_i  (bar0_wstrb_i),
    .s0_wvalid_i (bar0_wvalid_i),
    .s0_wready_o (bar0_wready_o),
    .s0_bresp_o  (bar0_bresp_o),
    .s0_bvalid_o (bar0_bvalid_o),
    .s0_bready_i (bar0_bready_i),
    .s0_araddr_i (bar0_araddr_i),
    .s0_arvalid_i(bar0_arvalid_i),
    .s0_arready_o(bar0_arready_o),
    .s0_rdata_o  (bar0_rdata_o),
    .s0_rresp_o  (bar0_rresp_o),
    .s0_rvalid_o (bar0_rvalid_o),
    .s0_rready_i (bar0_rready_i),
    .s1_addr_i   (Bar0Aw'(win_addr)),
    .s1_awvalid_i(win_awvalid[0]),
    .s1_awready_o(win_awready[0]),
    .s1_wdata_i  (win_wdata),
    .s1_wstrb_i  (win_wstrb),
    .s1_wvalid_i (win_wvalid[0]),
    .s1_wready_o (win_wready[0]),
    .s1_bvalid_o (win_bvalid[0]),
    .s1_bready_i (win_bready[0]),
    .s1_arvalid_i(win_arvalid[0]),
    .s1_arready_o(win_arready[0]),
    .s1_rdata_o  (win_rdata[32*0+:32]),
    .s1_rvalid_o (win_rvalid[0]),
    .s1_rready_i (win_rready[0]),
    .m_awaddr_o  (bar0_a_awaddr),
    .m_awvalid_o (bar0_a_awvalid),
    .m_awready_i (bar0_a_awready),
    .m_wdata_o   (bar0_a_wdata),
    .m_wstrb_o   (bar0_a_wstrb),
    .m_wvalid_o  (bar0_a_wvalid),
    .m_wready_i  (bar0_a_wready),
    .m_bresp_i   (bar0_a_bresp),
    .m_bvalid_i  (bar0_a_bvalid),
    .m_bready_o  (bar0_a_bready),
    .m_araddr_o  (bar0_a_araddr),
    .m_arvalid_o (bar0_a_arvalid),
    .m_arready_i (bar0_a_arready),
    .m_rdata_i   (bar0_a_rdata),
    .m_rresp_i   (bar0_a_rresp),
    .m_rvalid_i  (bar0_a_rvalid),
    .m_rready_o  (bar0_a_rready)
  );

  ep_axil_demux #(.N(3), .AW(Bar0Aw)) u_bar0_demux (
    .clk_i           (clk_i),
    .rst_ni          (rst_ni),
    .s_axil_awaddr_i (bar0_a_awaddr),
    .s_axil_awvalid_i(bar0_a_awvalid),
    .s_axil_awready_o(bar0_a_awready),
    .s_axil_wdata_i  (bar0_a_wdata),
    .s_axil_wstrb_i  (bar0_a_wstrb),
    .s_axil_wvalid_i (bar0_a_wvalid),
    .s_axil_wready_o (bar0_a_wready),
    .s_axil_bresp_o  (bar0_a_bresp),
    .s_axil_bvalid_o (bar0_a_bvalid),
    .s_axil_bready_i (bar0_a_bready),
    .s_axil_araddr_i (bar0_a_araddr),
    .s_axil_arvalid_i(bar0_a_arvalid),
    .s_axil_arready_o(bar0_a_arready),
    .s_axil_rdata_o  (bar0_a_rdata),
    .s_axil_rresp_o  (bar0_a_rresp),
    .s_axil_rvalid_o (bar0_a_rvalid),
    .s_axil_rready_i (bar0_a_rready),
    .dec_addr_o      (bar0_dec_addr),
    .dec_we_o        (bar0_dec_we),
    .dec_sel_i       (bar0_dec_sel),
    .m_addr_o        (bar0_m_addr),
    .m_wdata_o       (bar0_m_wdata),
    .m_wstrb_o       (bar0_m_wstrb),
    .m_awvalid_o     (bar0_m_awvalid),
    .m_awready_i     (bar0_m_awready),
    .m_wvalid_o      (bar0_m_wvalid),
    .m_wready_i      (bar0_m_wready),
    .m_bvalid_i      (bar0_m_bvalid),
    .m_bready_o      (bar0_m_bready),
    .m_arvalid_o     (bar0_m_arvalid),
    .m_arready_i     (bar0_m_arready),
    .m_rdata_i       (bar0_m_rdata),
    .m_rvalid_i      (bar0_m_rvalid),
    .m_rready_o      (bar0_m_rready),
    .loc_req_o       (bar0_loc_req),
    .loc_ack_i       (bar0_loc_ack),
    .loc_rdata_i     (bar0_loc_rdata)
  );

  logic [Bar1Aw-1:0] bar1_a_awaddr, bar1_a_araddr;
  logic              bar1_a_awvalid, bar1_a_awready, bar1_a_wvalid, bar1_a_wready, bar1_a_bvalid, bar1_a_bready;
  logic              bar1_a_arvalid, bar1_a_arready, bar1_a_rvalid, bar1_a_rready;
  logic [31:0]       bar1_a_wdata, bar1_a_rdata;
  logic [3:0]        bar1_a_wstrb;
  logic [1:0]        bar1_a_bresp, bar1_a_rresp;

  // The host's BAR1 port and the PCI cfg access window share the BAR1 demux.
  ep_axil_arb #(.AW(Bar1Aw)) u_bar1_arb (
    .clk_i       (clk_i),
    .rst_ni      (rst_ni),
    .s0_awaddr_i (bar1_awaddr_i),
    .s0_awvalid_i(bar1_awvalid_i),
    .s0_awready_o(bar1_awready_o),
    .s0_wdata_i  (bar1_wdata_i),
    .s0_wstrb_i  (bar1_wstrb_i),
    .s0_wvalid_i (bar1_wvalid_i),
    .s0_wready_o (bar1_wready_o),
    .s0_bresp_o  (bar1_bresp_o),
    .s0_bvalid_o (bar1_bvalid_o),
    .s0_bready_i (bar1_bready_i),
    .s0_araddr_i (bar1_araddr_i),
    .s0_arvalid_i(bar1_arvalid_i),
    .s0_arready_o(bar1_arready_o),
    .s0_rdata_o  (bar1_rdata_o),
    .s0_rresp_o  (bar1_rresp_o),
    .s0_rvalid_o (bar1_rvalid_o),
    .s0_rready_i (bar1_rready_i),
    .s1_addr_i   (Bar1Aw'(win_addr)),
    .s1_awvalid_i(win_awvalid[1]),
    .s1_awready_o(win_awready[1]),
    .s1_wdata_i  (win_wdata),
    .s1_wstrb_i  (win_wstrb),
    .s1_wvalid_i (win_wvalid[1]),
    .s1_wready_o (win_wready[1]),
    .s1_bvalid_o (win_bvalid[1]),
    .s1_bready_i (win_bready[1]),
    .s1_arvalid_i(win_arvalid[1]),
    .s1_arready_o(win_arready[1]),
    .s1_rdata_o  (win_rdata[32*1+:32]),
    .s1_rvalid_o (win_rvalid[1]),
    .s1_rready_i (win_rready[1]),
    .m_awaddr_o  (bar1_a_awaddr),
    .m_awvalid_o (bar1_a_awvalid),
    .m_awready_i (bar1_a_awready),
    .m_wdata_o   (bar1_a_wdata),
    .m_wstrb_o   (bar1_a_wstrb),
    .m_wvalid_o  (bar1_a_wvalid),
    .m_wready_i  (bar1_a_wready),
    .m_bresp_i   (bar1_a_bresp),
    .m_bvalid_i  (bar1_a_bvalid),
    .m_bready_o  (bar1_a_bready),
    .m_araddr_o  (bar1_a_araddr),
    .m_arvalid_o (bar1_a_arvalid),
    .m_arready_i (bar1_a_arready),
    .m_rdata_i   (bar1_a_rdata),
    .m_rresp_i   (bar1_a_rresp),
    .m_rvalid_i  (bar1_a_rvalid),
    .m_rready_o  (bar1_a_rready)
  );

  ep_axil_demux #(.N(2), .AW(Bar1Aw)) u_bar1_demux (
    .clk_i           (clk_i),
    .rst_ni          (rst_ni),
    .s_axil_awaddr_i (bar1_a_awaddr),
    .s_axil_awvalid_i(bar1_a_awvalid),
    .s_axil_awready_o(bar1_a_awready),
    .s_axil_wdata_i  (bar1_a_wdata),
    .s_axil_wstrb_i  (bar1_a_wstrb),
    .s_axil_wvalid_i (bar1_a_wvalid),
    .s_axil_wready_o (bar1_a_wready),
    .s_axil_bresp_o  (bar1_a_bresp),
    .s_axil_bvalid_o (bar1_a_bvalid),
    .s_axil_bready_i (bar1_a_bready),
    .s_axil_araddr_i (bar1_a_araddr),
    .s_axil_arvalid_i(bar1_a_arvalid),
    .s_axil_arready_o(bar1_a_arready),
    .s_axil_rdata_o  (bar1_a_rdata),
    .s_axil_rresp_o  (bar1_a_rresp),
    .s_axil_rvalid_o (bar1_a_rvalid),
    .s_axil_rready_i (bar1_a_rready),
    .dec_addr_o      (bar1_dec_addr),
    .dec_we_o        (bar1_dec_we),
    .dec_sel_i       (bar1_dec_sel),
    .m_addr_o        (bar1_m_addr),
    .m_wdata_o       (bar1_m_wdata),
    .m_wstrb_o       (bar1_m_wstrb),
    .m_awvalid_o     (bar1_m_awvalid),
    .m_awready_i     (bar1_m_awready),
    .m_wvalid_o      (bar1_m_wvalid),
    .m_wready_i      (bar1_m_wready),
    .m_bvalid_i      (bar1_m_bvalid),
    .m_bready_o      (bar1_m_bready),
    .m_arvalid_o     (bar1_m_arvalid),
    .m_arready_i     (bar1_m_arready),
    .m_rdata_i       (bar1_m_rdata),
    .m_rvalid_i      (bar1_m_rvalid),
    .m_rready_o      (bar1_m_rready),
    .loc_req_o       (bar1_loc_req),
    .loc_ack_i       (bar1_loc_ack),
    .loc_rdata_i     (bar1_loc_rdata)
  );

  logic [Bar2Aw-1:0] bar2_a_awaddr, bar2_a_araddr;
  logic              bar2_a_awvalid, bar2_a_awready, bar2_a_wvalid, bar2_a_wready, bar2_a_bvalid, bar2_a_bready;
  logic              bar2_a_arvalid, bar2_a_arready, bar2_a_rvalid, bar2_a_rready;
  logic [31:0]       bar2_a_wdata, bar2_a_rdata;
  logic [3:0]        bar2_a_wstrb;
  logic [1:0]        bar2_a_bresp, bar2_a_rresp;

  // The host's BAR2 port and the PCI cfg access window share the BAR2 demux.
  ep_axil_arb #(.AW(Bar2Aw)) u_bar2_arb (
    .clk_i       (clk_i),
    .rst_ni      (rst_ni),
    .s0_awaddr_i (bar2_awaddr_i),
    .s0_awvalid_i(bar2_awvalid_i),
    .s0_awready_o(bar2_awready_o),
    .s0_wdata_i  (bar2_wdata_i),
    .s0_wstrb_i  (bar2_wstrb_i),
    .s0_wvalid_i (bar2_wvalid_i),
    .s0_wready_o (bar2_wready_o),
    .s0_bresp_o  (bar2_bresp_o),
    .s0_bvalid_o (bar2_bvalid_o),
    .s0_bready_i (bar2_bready_i),
    .s0_araddr_i (bar2_araddr_i),
    .s0_arvalid_i(bar2_arvalid_i),
    .s0_arready_o(bar2_arready_o),
    .s0_rdata_o  (bar2_rdata_o),
    .s0_rresp_o  (bar2_rresp_o),
    .s0_rvalid_o (bar2_rvalid_o),
    .s0_rready_i (bar2_rready_i),
    .s1_addr_i   (Bar2Aw'(win_addr)),
    .s1_awvalid_i(win_awvalid[2]),
    .s1_awready_o(win_awready[2]),
    .s1_wdata_i  (win_wdata),
    .s1_wstrb_i  (win_wstrb),
    .s1_wvalid_i (win_wvalid[2]),
    .s1_wready_o (win_wready[2]),
    .s1_bvalid_o (win_bvalid[2]),
    .s1_bready_i (win_bready[2]),
    .s1_arvalid_i(win_arvalid[2]),
    .s1_arready_o(win_arready[2]),
    .s1_rdata_o  (win_rdata[32*2+:32]),
    .s1_rvalid_o (win_rvalid[2]),
    .s1_rready_i (win_rready[2]),
    .m_awaddr_o  (bar2_a_awaddr),
    .m_awvalid_o (bar2_a_awvalid),
    .m_awready_i (bar2_a_awready),
    .m_wdata_o   (bar2_a_wdata),
    .m_wstrb_o   (bar2_a_wstrb),
    .m_wvalid_o  (bar2_a_wvalid),
    .m_wready_i  (bar2_a_wready),
    .m_bresp_i   (bar2_a_bresp),
    .m_bvalid_i  (bar2_a_bvalid),
    .m_bready_o  (bar2_a_bready),
    .m_araddr_o  (bar2_a_araddr),
    .m_arvalid_o (bar2_a_arvalid),
    .m_arready_i (bar2_a_arready),
    .m_rdata_i   (bar2_a_rdata),
    .m_rresp_i   (bar2_a_rresp),
    .m_rvalid_i  (bar2_a_rvalid),
    .m_rready_o  (bar2_a_rready)
  );

  ep_axil_demux #(.N(1), .AW(Bar2Aw)) u_bar2_demux (
    .clk_i           (clk_i),
    .rst_ni          (rst_ni),
    .s_axil_awaddr_i (bar2_a_awaddr),
    .s_axil_awvalid_i(bar2_a_awvalid),
    .s_axil_awready_o(bar2_a_awready),
    .s_axil_wdata_i  (bar2_a_wdata),
    .s_axil_wstrb_i  (bar2_a_wstrb),
    .s_axil_wvalid_i (bar2_a_wvalid),
    .s_axil_wready_o (bar2_a_wready),
    .s_axil_bresp_o  (bar2_a_bresp),
    .s_axil_bvalid_o (bar2_a_bvalid),
    .s_axil_bready_i (bar2_a_bready),
    .s_axil_araddr_i (bar2_a_araddr),
    .s_axil_arvalid_i(bar2_a_arvalid),
    .s_axil_arready_o(bar2_a_arready),
    .s_axil_rdata_o  (bar2_a_rdata),
    .s_axil_rresp_o  (bar2_a_rresp),
    .s_axil_rvalid_o (bar2_a_rvalid),
    .s_axil_rready_i (bar2_a_rready),
    .dec_addr_o      (bar2_dec_addr),
    .dec_we_o        (bar2_dec_we),
    .dec_sel_i       (bar2_dec_sel),
    .m_addr_o        (bar2_m_addr),
    .m_wdata_o       (bar2_m_wdata),
    .m_wstrb_o       (bar2_m_wstrb),
    .m_awvalid_o     (bar2_m_awvalid),
    .m_awready_i     (bar2_m_awready),
    .m_wvalid_o      (bar2_m_wvalid),
    .m_wready_i      (bar2_m_wready),
    .m_bvalid_i      (bar2_m_bvalid),
    .m_bready_o      (bar2_m_bready),
    .m_arvalid_o     (bar2_m_arvalid),
    .m_arready_i     (bar2_m_arready),
    .m_rdata_i       (bar2_m_rdata),
    .m_rvalid_i      (bar2_m_rvalid),
    .m_rready_o      (bar2_m_rready),
    .loc_req_o       (bar2_loc_req),
    .loc_ack_i       (bar2_loc_ack),
    .loc_rdata_i     (bar2_loc_rdata)
  );

  // ---- configuration space: the type-0 header, then the capability list ----
  // The capabilities that hold driver-written state (MSI-X message control, the PCI cfg access
  // window) are register blocks; every other word of 0x40-0xff is the generated CAP_ROM.

  localparam logic [CfgAw-1:0] MsixCap = CfgAw'(virtio_ism_ep_pkg::MSIX_CAP_OFFSET);
  localparam logic [CfgAw-1:0] CfgCap  = CfgAw'(virtio_ism_ep_pkg::PCI_CFG_CAP_OFFSET);

  always_comb begin
    cfg_dec_sel = '0;
    if (cfg_dec_addr < CfgAw'('h40)) cfg_dec_sel[0] = EMULATE_HEADER;
    else if (cfg_dec_addr >= MsixCap && cfg_dec_addr < MsixCap + CfgAw'('hc)) cfg_dec_sel[1] = 1'b1;
    else if (cfg_dec_addr >= CfgCap && cfg_dec_addr < CfgCap + CfgAw'('h14)) cfg_dec_sel[2] = 1'b1;
  end

  logic [5:0] cap_word;  // config word of a local access, in 0x40-0xff
  assign cap_word      = cfg_dec_addr[7:2] - 6'h10;
  assign cfg_loc_ack   = cfg_loc_req;
  assign cfg_loc_rdata = (cfg_dec_addr >= CfgAw'('h40) && cfg_dec_addr < CfgAw'('h100)) ?
                         virtio_ism_ep_pkg::CAP_ROM[32*cap_word+:32] : 32'h0;

  pci_header_reg_top #(.AW(CfgAw)) u_header (
    .clk_i           (clk_i),
    .rst_ni          (rst_ni),
    .s_axil_awaddr_i (cfg_m_addr),
    .s_axil_awvalid_i(cfg_m_awvalid[0]),
    .s_axil_awready_o(cfg_m_awready[0]),
    .s_axil_wdata_i  (cfg_m_wdata),
    .s_axil_wstrb_i  (cfg_m_wstrb),
    .s_axil_wvalid_i (cfg_m_wvalid[0]),
    .s_axil_wready_o (cfg_m_wready[0]),
    .s_axil_bresp_o  (),
    .s_axil_bvalid_o (cfg_m_bvalid[0]),
    .s_axil_bready_i (cfg_m_bready[0]),
    .s_axil_araddr_i (cfg_m_addr),
    .s_axil_arvalid_i(cfg_m_arvalid[0]),
    .s_axil_arready_o(cfg_m_arready[0]),
    .s_axil_rdata_o  (cfg_m_rdata[32*0+:32]),
    .s_axil_rresp_o  (),
    .s_axil_rvalid_o (cfg_m_rvalid[0]),
    .s_axil_rready_i (cfg_m_rready[0]),
    .reg2hw_o        (header_reg2hw),
    .hw2reg_i        (header_hw2reg)
  );

  msix_cap_reg_top #(.AW(CfgAw)) u_msix_cap (
    .clk_i           (clk_i),
    .rst_ni          (rst_ni),
    .s_axil_awaddr_i (CfgAw'(cfg_m_addr - MsixCap)),
    .s_axil_awvalid_i(cfg_m_awvalid[1]),
    .s_axil_awready_o(cfg_m_awready[1]),
    .s_axil_wdata_i  (cfg_m_wdata),
    .s_axil_wstrb_i  (cfg_m_wstrb),
    .s_axil_wvalid_i (cfg_m_wvalid[1]),
    .s_axil_wready_o (cfg_m_wready[1]),
    .s_axil_bresp_o  (),
    .s_axil_bvalid_o (cfg_m_bvalid[1]),
    .s_axil_bready_i (cfg_m_bready[1]),
    .s_axil_araddr_i (CfgAw'(cfg_m_addr - MsixCap)),
    .s_axil_arvalid_i(cfg_m_arvalid[1]),
    .s_axil_arready_o(cfg_m_arready[1]),
    .s_axil_rdata_o  (cfg_m_rdata[32*1+:32]),
    .s_axil_rresp_o  (),
    .s_axil_rvalid_o (cfg_m_rvalid[1]),
    .s_axil_rready_i (cfg_m_rready[1]),
    .reg2hw_o        (msix_cap_reg2hw),
    .hw2reg_i        (msix_cap_hw2reg)
  );

  virtio_pci_cfg_cap_reg_top #(.AW(CfgAw)) u_cfg_cap (
    .clk_i           (clk_i),
    .rst_ni          (rst_ni),
    .s_axil_awaddr_i (CfgAw'(cfg_m_addr - CfgCap)),
    .s_axil_awvalid_i(cfg_m_awvalid[2]),
    .s_axil_awready_o(cfg_m_awready[2]),
    .s_axil_wdata_i  (cfg_m_wdata),
    .s_axil_wstrb_i  (cfg_m_wstrb),
    .s_axil_wvalid_i (cfg_m_wvalid[2]),
    .s_axil_wready_o (cfg_m_wready[2]),
    .s_axil_bresp_o  (),
    .s_axil_bvalid_o (cfg_m_bvalid[2]),
    .s_axil_bready_i (cfg_m_bready[2]),
    .s_axil_araddr_i (CfgAw'(cfg_m_addr - CfgCap)),
    .s_axil_arvalid_i(cfg_m_arvalid[2]),
    .s_axil_arready_o(cfg_m_arready[2]),
    .s_axil_rdata_o  (cfg_m_rdata[32*2+:32]),
    .s_axil_rresp_o  (),
    .s_axil_rvalid_o (cfg_m_rvalid[2]),
    .s_axil_rready_i (cfg_m_rready[2]),
    .reg2hw_o        (cfg_cap_reg2hw),
    .hw2reg_i        (cfg_cap_hw2reg)
  );

  ep_bar_regs u_bars (
    .clk_i  (clk_i),
    .rst_ni (rst_ni),
    .wmask_i(virtio_ism_ep_pkg::BAR_WMASK),
    .type_i (virtio_ism_ep_pkg::BAR_TYPE),
    .re_i   (header_reg2hw.bar.re),
    .we_i   (header_reg2hw.bar.we),
    .idx_i  (header_reg2hw.bar.idx),
    .wdata_i(header_reg2hw.bar.wdata),
    .be_i   (header_reg2hw.bar.be),
    .ack_o  (header_hw2reg.bar.ack),
    .rdata_o(header_hw2reg.bar.rdata)
  );

  logic isr_pending;  // an ISR cause is set: the legacy interrupt's level
  assign isr_pending = isr_reg2hw.isr.queue_interrupt.q || isr_reg2hw.isr.config_interrupt.q;

  always_comb begin
    header_hw2reg.vendor_id.vendor_id.d = virtio_ism_ep_pkg::VENDOR_ID;
    header_hw2reg.vendor_id.vendor_id.de = 1'b1;
    header_hw2reg.device_id.device_id.d = virtio_ism_ep_pkg::DEVICE_ID;
    header_hw2reg.device_id.device_id.de = 1'b1;
    // INTx status follows the ISR while MSI-X is off.
    header_hw2reg.status.interrupt_status.d = isr_pending && !msix_cap_reg2hw.message_control.enable.q;
    header_hw2reg.status.interrupt_status.de = 1'b1;
    header_hw2reg.status.capabilities_list.d = virtio_ism_ep_pkg::CAP_PTR != 8'h0;
    header_hw2reg.status.capabilities_list.de = 1'b1;
    header_hw2reg.revision_id.revision_id.d = virtio_ism_ep_pkg::REVISION_ID;
    header_hw2reg.revision_id.revision_id.de = 1'b1;
    header_hw2reg.prog_if.prog_if.d = virtio_ism_ep_pkg::PROG_IF;
    header_hw2reg.prog_if.prog_if.de = 1'b1;
    header_hw2reg.subclass.subclass.d = virtio_ism_ep_pkg::SUBCLASS;
    header_hw2reg.subclass.subclass.de = 1'b1;
    header_hw2reg.base_class.base_class.d = virtio_ism_ep_pkg::BASE_CLASS;
    header_hw2reg.base_class.base_class.de = 1'b1;
    header_hw2reg.header_type.header_type.d = 8'h00;
    header_hw2reg.header_type.header_type.de = 1'b1;
    header_hw2reg.subsystem_vendor_id.subsystem_vendor_id.d = virtio_ism_ep_pkg::SUBSYSTEM_VENDOR_ID;
    header_hw2reg.subsystem_vendor_id.subsystem_vendor_id.de = 1'b1;
    header_hw2reg.subsystem_id.subsystem_id.d = virtio_ism_ep_pkg::SUBSYSTEM_ID;
    header_hw2reg.subsystem_id.subsystem_id.de = 1'b1;
    header_hw2reg.capabilities_ptr.capabilities_ptr.d = virtio_ism_ep_pkg::CAP_PTR;
    header_hw2reg.capabilities_ptr.capabilities_ptr.de = 1'b1;
    header_hw2reg.interrupt_pin.interrupt_pin.d = 8'h01;
    header_hw2reg.interrupt_pin.interrupt_pin.de = 1'b1;  // INTA#
  end

  // The read-only fields of the two capability blocks, from the words the ROM holds for them.
  logic [31:0] msix_w0, msix_w1, msix_w2, cfgcap_w0, cfgcap_w1;
  assign msix_w0   = virtio_ism_ep_pkg::CAP_ROM[32*((MsixCap - CfgAw'('h40)) >> 2)+:32];
  assign msix_w1   = virtio_ism_ep_pkg::CAP_ROM[32*(((MsixCap - CfgAw'('h40)) >> 2) + 1)+:32];
  assign msix_w2   = virtio_ism_ep_pkg::CAP_ROM[32*(((MsixCap - CfgAw'('h40)) >> 2) + 2)+:32];
  assign cfgcap_w0 = virtio_ism_ep_pkg::CAP_ROM[32*((CfgCap - CfgAw'('h40)) >> 2)+:32];
  assign cfgcap_w1 = virtio_ism_ep_pkg::CAP_ROM[32*(((CfgCap - CfgAw'('h40)) >> 2) + 1)+:32];

  always_comb begin
    msix_cap_hw2reg.cap_id.cap_id.d = msix_w0[7:0];
    msix_cap_hw2reg.cap_id.cap_id.de = 1'b1;
    msix_cap_hw2reg.cap_next.cap_next.d = msix_w0[15:8];
    msix_cap_hw2reg.cap_next.cap_next.de = 1'b1;
    msix_cap_hw2reg.message_control.table_size.d = msix_w0[26:16];
    msix_cap_hw2reg.message_control.table_size.de = 1'b1;
    msix_cap_hw2reg.vector_table.bir.d = msix_w1[2:0];
    msix_cap_hw2reg.vector_table.bir.de = 1'b1;
    msix_cap_hw2reg.vector_table.offset.d = msix_w1[31:3];
    msix_cap_hw2reg.vector_table.offset.de = 1'b1;
    msix_cap_hw2reg.pending_array.bir.d = msix_w2[2:0];
    msix_cap_hw2reg.pending_array.bir.de = 1'b1;
    msix_cap_hw2reg.pending_array.offset.d = msix_w2[31:3];
    msix_cap_hw2reg.pending_array.offset.de = 1'b1;
    cfg_cap_hw2reg.cap_vndr.cap_vndr.d = cfgcap_w0[7:0];
    cfg_cap_hw2reg.cap_vndr.cap_vndr.de = 1'b1;
    cfg_cap_hw2reg.cap_next.cap_next.d = cfgcap_w0[15:8];
    cfg_cap_hw2reg.cap_next.cap_next.de = 1'b1;
    cfg_cap_hw2reg.cap_len.cap_len.d = cfgcap_w0[23:16];
    cfg_cap_hw2reg.cap_len.cap_len.de = 1'b1;
    cfg_cap_hw2reg.cfg_type.cfg_type.d = cfgcap_w0[31:24];
    cfg_cap_hw2reg.cfg_type.cfg_type.de = 1'b1;
    cfg_cap_hw2reg.id.id.d = cfgcap_w1[15:8];
    cfg_cap_hw2reg.id.id.de = 1'b1;
    cfg_cap_hw2reg.pci_cfg_data.ack = win_ack;
    cfg_cap_hw2reg.pci_cfg_data.rdata = win_rdata_cfg;
  end

  // ---- BAR0: common configuration, ISR, notify region, device configuration ----

  logic [63:0] bar0_addr;
  logic        bar0_notify;  // the local access is in the notify region
  assign bar0_addr   = 64'(bar0_dec_addr);
  assign bar0_notify = in_window(bar0_addr, virtio_ism_ep_pkg::NOTIFY_OFFSET, virtio_ism_ep_pkg::NOTIFY_LENGTH);
  always_comb begin
    bar0_dec_sel = '0;
    bar0_dec_sel[0] = in_window(bar0_addr, virtio_ism_ep_pkg::COMMON_OFFSET, virtio_ism_ep_pkg::COMMON_LENGTH);
    bar0_dec_sel[1] = in_window(bar0_addr, virtio_ism_ep_pkg::ISR_OFFSET, virtio_ism_ep_pkg::ISR_LENGTH);
    bar0_dec_sel[2] = in_window(bar0_addr, virtio_ism_ep_pkg::DEVICE_CFG_OFFSET, virtio_ism_ep_pkg::DEVICE_CFG_LENGTH);
  end

  virtio_common_cfg_reg_top #(.AW(Bar0Aw)) u_common (
    .clk_i           (clk_i),
    .rst_ni          (rst_ni),
    .s_axil_awaddr_i (Bar0Aw'(bar0_m_addr - Bar0Aw'(virtio_ism_ep_pkg::COMMON_OFFSET))),
    .s_axil_awvalid_i(bar0_m_awvalid[0]),
    .s_axil_awready_o(bar0_m_awready[0]),
    .s_axil_wdata_i  (bar0_m_wdata),
    .s_axil_wstrb_i  (bar0_m_wstrb),
    .s_axil_wvalid_i (bar0_m_wvalid[0]),
    .s_axil_wready_o (bar0_m_wready[0]),
    .s_axil_bresp_o  (),
    .s_axil_bvalid_o (bar0_m_bvalid[0]),
    .s_axil_bready_i (bar0_m_bready[0]),
    .s_axil_araddr_i (Bar0Aw'(bar0_m_addr - Bar0Aw'(virtio_ism_ep_pkg::COMMON_OFFSET))),
    .s_axil_arvalid_i(bar0_m_arvalid[0]),
    .s_axil_arready_o(bar0_m_arready[0]),
    .s_axil_rdata_o  (bar0_m_rdata[32*0+:32]),
    .s_axil_rresp_o  (),
    .s_axil_rvalid_o (bar0_m_rvalid[0]),
    .s_axil_rready_i (bar0_m_rready[0]),
    .reg2hw_o        (common_reg2hw),
    .hw2reg_i        (common_hw2reg)
  );

  virtio_isr_reg_top #(.AW(Bar0Aw)) u_isr (
    .clk_i           (clk_i),
    .rst_ni          (isr_rst_n),
    .s_axil_awaddr_i (Bar0Aw'(bar0_m_addr - Bar0Aw'(virtio_ism_ep_pkg::ISR_OFFSET))),
    .s_axil_awvalid_i(bar0_m_awvalid[1]),
    .s_axil_awready_o(bar0_m_awready[1]),
    .s_axil_wdata_i  (bar0_m_wdata),
    .s_axil_wstrb_i  (bar0_m_wstrb),
    .s_axil_wvalid_i (bar0_m_wvalid[1]),
    .s_axil_wready_o (bar0_m_wready[1]),
    .s_axil_bresp_o  (),
    .s_axil_bvalid_o (bar0_m_bvalid[1]),
    .s_axil_bready_i (bar0_m_bready[1]),
    .s_axil_araddr_i (Bar0Aw'(bar0_m_addr - Bar0Aw'(virtio_ism_ep_pkg::ISR_OFFSET))),
    .s_axil_arvalid_i(bar0_m_arvalid[1]),
    .s_axil_arready_o(bar0_m_arready[1]),
    .s_axil_rdata_o  (bar0_m_rdata[32*1+:32]),
    .s_axil_rresp_o  (),
    .s_axil_rvalid_o (bar0_m_rvalid[1]),
    .s_axil_rready_i (bar0_m_rready[1]),
    .reg2hw_o        (isr_reg2hw),
    .hw2reg_i        (isr_hw2reg)
  );

  ism_config_reg_top #(.AW(Bar0Aw)) u_devcfg (
    .clk_i           (clk_i),
    .rst_ni          (rst_ni),
    .s_axil_awaddr_i (Bar0Aw'(bar0_m_addr - Bar0Aw'(virtio_ism_ep_pkg::DEVICE_CFG_OFFSET))),
    .s_axil_awvalid_i(bar0_m_awvalid[2]),
    .s_axil_awready_o(bar0_m_awready[2]),
    .s_axil_wdata_i  (bar0_m_wdata),
    .s_axil_wstrb_i  (bar0_m_wstrb),
    .s_axil_wvalid_i (bar0_m_wvalid[2]),
    .s_axil_wready_o (bar0_m_wready[2]),
    .s_axil_bresp_o  (),
    .s_axil_bvalid_o (bar0_m_bvalid[2]),
    .s_axil_bready_i (bar0_m_bready[2]),
    .s_axil_araddr_i (Bar0Aw'(bar0_m_addr - Bar0Aw'(virtio_ism_ep_pkg::DEVICE_CFG_OFFSET))),
    .s_axil_arvalid_i(bar0_m_arvalid[2]),
    .s_axil_arready_o(bar0_m_arready[2]),
    .s_axil_rdata_o  (bar0_m_rdata[32*2+:32]),
    .s_axil_rresp_o  (),
    .s_axil_rvalid_o (bar0_m_rvalid[2]),
    .s_axil_rready_i (bar0_m_rready[2]),
    .reg2hw_o        (devcfg_reg2hw),
    .hw2reg_i        (devcfg_hw2reg)
  );

  // The ISR block has no hardware clear; a device reset clears it through its reset.
  logic isr_clear, isr_rst_n;
  assign isr_rst_n = rst_ni && !isr_clear;

  logic isr_queue_set, isr_config_set;
  assign isr_hw2reg.isr.queue_interrupt.set  = isr_queue_set;
  assign isr_hw2reg.isr.config_interrupt.set = isr_config_set;

  // Device configuration: firmware writes one word (devcfg_offset, devcfg_data) at a time into
  // the 64-bit registers; the other half keeps what was driven before.
  logic [319:0]     devcfg_q;  // register i in bits 64*i+63:64*i
  logic [15:0]      devcfg_off;
  logic [4:0]       devcfg_hit;
  assign devcfg_off = fw_csr_reg2hw.devcfg_offset.offset.q;
  always_comb begin
    for (int unsigned i = 0; i < 5; i++) devcfg_hit[i] = fw_csr_reg2hw.devcfg_write.write.q && devcfg_off[15:3] == 13'(i);
  end
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      devcfg_q <= '0;
    end else begin
      for (int unsigned i = 0; i < 5; i++) begin
        if (devcfg_hit[i]) begin
          if (devcfg_off[2]) devcfg_q[64*i+32+:32] <= fw_csr_reg2hw.devcfg_data.data.q;
          else devcfg_q[64*i+:32] <= fw_csr_reg2hw.devcfg_data.data.q;
        end
      end
    end
  end
  // Registers in offset order: cdid_lo, cdid_hi, devid, chunk_size, notify_size (8 bytes each).
  always_comb begin
    devcfg_hw2reg.cdid_lo.cdid_lo.d = devcfg_q[0+:64];
    devcfg_hw2reg.cdid_lo.cdid_lo.de = 1'b1;
    devcfg_hw2reg.cdid_hi.cdid_hi.d = devcfg_q[64+:64];
    devcfg_hw2reg.cdid_hi.cdid_hi.de = 1'b1;
    devcfg_hw2reg.devid.devid.d = devcfg_q[128+:64];
    devcfg_hw2reg.devid.devid.de = 1'b1;
    devcfg_hw2reg.chunk_size.chunk_size.d = devcfg_q[192+:64];
    devcfg_hw2reg.chunk_size.chunk_size.de = 1'b1;
    devcfg_hw2reg.notify_size.notify_size.d = devcfg_q[256+:64];
    devcfg_hw2reg.notify_size.notify_size.de = 1'b1;
  end

  // ---- the virtio logic ----

  logic             core_push, core_grant;
  logic [7:0]       core_kind;
  logic [31:0]      core_data;
  logic             cfg_trigger, msix_clear;
  logic [15:0]      cfg_vector;
  logic [Queues-1:0] queue_exists;
  logic [63:0]      drv_features;
  logic             drv_features_de;
  logic [7:0]       device_status;
  logic             device_status_de;
  fw_csr_reg_pkg::fw_csr_hw2reg_q_max_size_t    q_max_size;
  fw_csr_reg_pkg::fw_csr_hw2reg_q_state_t       q_state;
  fw_csr_reg_pkg::fw_csr_hw2reg_q_msix_vector_t q_msix_vector;
  fw_csr_reg_pkg::fw_csr_hw2reg_q_desc_t        q_desc;
  fw_csr_reg_pkg::fw_csr_hw2reg_q_driver_t      q_driver;
  fw_csr_reg_pkg::fw_csr_hw2reg_q_device_t      q_device;

  ep_virtio_core #(.Queues(Queues), .Vectors(Vectors)) u_core (
    .clk_i             (clk_i),
    .rst_ni            (rst_ni),
    .common_reg2hw_i   (common_reg2hw),
    .common_hw2reg_o   (common_hw2reg),
    .fw_reg2hw_i       (fw_csr_reg2hw),
    .drv_features_o    (drv_features),
    .drv_features_de_o (drv_features_de),
    .device_status_o   (device_status),
    .device_status_de_o(device_status_de),
    .q_max_size_o      (q_max_size),
    .q_state_o         (q_state),
    .q_msix_vector_o   (q_msix_vector),
    .q_desc_o          (q_desc),
    .q_driver_o        (q_driver),
    .q_device_o        (q_device),
    .evt_push_o        (core_push),
    .evt_kind_o        (core_kind),
    .evt_data_o        (core_data),
    .evt_grant_i       (core_grant),
    .isr_queue_set_o   (isr_queue_set),
    .isr_config_set_o  (isr_config_set),
    .isr_clear_o       (isr_clear),
    .msix_trigger_o    (cfg_trigger),
    .msix_vector_o     (cfg_vector),
    .msix_clear_o      (msix_clear),
    .queue_exists_o    (queue_exists)
  );

  // ---- BAR1: MSI-X table and PBA ----

  logic [63:0] bar1_addr;
  assign bar1_addr = 64'(bar1_dec_addr);
  always_comb begin
    bar1_dec_sel = '0;
    bar1_dec_sel[0] = in_window(bar1_addr, virtio_ism_ep_pkg::MSIX_TABLE_OFFSET, 64'(Vectors) * 64'h10);
    bar1_dec_sel[1] = in_window(bar1_addr, virtio_ism_ep_pkg::MSIX_PBA_OFFSET, 64'h8);
  end
  assign bar1_loc_ack   = bar1_loc_req;
  assign bar1_loc_rdata = 32'h0;

  msix_table_reg_top #(.AW(Bar1Aw)) u_msix_table (
    .clk_i           (clk_i),
    .rst_ni          (rst_ni),
    .s_axil_awaddr_i (Bar1Aw'(bar1_m_addr - Bar1Aw'(virtio_ism_ep_pkg::MSIX_TABLE_OFFSET))),
    .s_axil_awvalid_i(bar1_m_awvalid[0]),
    .s_axil_awready_o(bar1_m_awready[0]),
    .s_axil_wdata_i  (bar1_m_wdata),
    .s_axil_wstrb_i  (bar1_m_wstrb),
    .s_axil_wvalid_i (bar1_m_wvalid[0]),
    .s_axil_wready_o (bar1_m_wready[0]),
    .s_axil_bresp_o  (),
    .s_axil_bvalid_o (bar1_m_bvalid[0]),
    .s_axil_bready_i (bar1_m_bready[0]),
    .s_axil_araddr_i (Bar1Aw'(bar1_m_addr - Bar1Aw'(virtio_ism_ep_pkg::MSIX_TABLE_OFFSET))),
    .s_axil_arvalid_i(bar1_m_arvalid[0]),
    .s_axil_arready_o(bar1_m_arready[0]),
    .s_axil_rdata_o  (bar1_m_rdata[32*0+:32]),
    .s_axil_rresp_o  (),
    .s_axil_rvalid_o (bar1_m_rvalid[0]),
    .s_axil_rready_i (bar1_m_rready[0]),
    .reg2hw_o        (msix_table_reg2hw),
    .hw2reg_i        (msix_table_hw2reg)
  );

  msix_pba_reg_top #(.AW(Bar1Aw)) u_msix_pba (
    .clk_i           (clk_i),
    .rst_ni          (rst_ni),
    .s_axil_awaddr_i (Bar1Aw'(bar1_m_addr - Bar1Aw'(virtio_ism_ep_pkg::MSIX_PBA_OFFSET))),
    .s_axil_awvalid_i(bar1_m_awvalid[1]),
    .s_axil_awready_o(bar1_m_awready[1]),
    .s_axil_wdata_i  (bar1_m_wdata),
    .s_axil_wstrb_i  (bar1_m_wstrb),
    .s_axil_wvalid_i (bar1_m_wvalid[1]),
    .s_axil_wready_o (bar1_m_wready[1]),
    .s_axil_bresp_o  (),
    .s_axil_bvalid_o (bar1_m_bvalid[1]),
    .s_axil_bready_i (bar1_m_bready[1]),
    .s_axil_araddr_i (Bar1Aw'(bar1_m_addr - Bar1Aw'(virtio_ism_ep_pkg::MSIX_PBA_OFFSET))),
    .s_axil_arvalid_i(bar1_m_arvalid[1]),
    .s_axil_arready_o(bar1_m_arready[1]),
    .s_axil_rdata_o  (bar1_m_rdata[32*1+:32]),
    .s_axil_rresp_o  (),
    .s_axil_rvalid_o (bar1_m_rvalid[1]),
    .s_axil_rready_i (bar1_m_rready[1]),
    .reg2hw_o        (msix_pba_reg2hw),
    .hw2reg_i        (msix_pba_hw2reg)
  );

  // MSI-X delivery reads the table's message address and data through their RAM read ports.
  logic [4:0] msix_raddr;
  always_comb begin
    msix_table_hw2reg.entry_msg_addr_lo.raddr = msix_raddr;
    msix_table_hw2reg.entry_msg_addr_hi.raddr = msix_raddr;
    msix_table_hw2reg.entry_msg_data.raddr    = msix_raddr;
  end

  // msix_trigger's swmod comes with the write; the vector written is in q a clock later.
  logic fw_trigger_q;
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) fw_trigger_q <= 1'b0;
    else fw_trigger_q <= fw_csr_reg2hw.msix_trigger.vector.swmod;
  end

  logic [63:0] msix_pending;
  ep_msix #(.Vectors(Vectors)) u_msix (
    .clk_i           (clk_i),
    .rst_ni          (rst_ni),
    .trigger_i       (fw_trigger_q),
    .trigger_vector_i(fw_csr_reg2hw.msix_trigger.vector.q),
    .cfg_trigger_i   (cfg_trigger),
    .cfg_vector_i    (cfg_vector),
    .clear_pending_i (msix_clear),
    .enable_i        (msix_cap_reg2hw.message_control.enable.q),
    .function_mask_i (msix_cap_reg2hw.message_control.function_mask.q),
    .bus_master_i    (header_reg2hw.command.bus_master.q),
    .table_raddr_o   (msix_raddr),
    .addr_lo_i       (msix_table_reg2hw.entry_msg_addr_lo.rdata),
    .addr_hi_i       (msix_table_reg2hw.entry_msg_addr_hi.rdata),
    .data_i          (msix_table_reg2hw.entry_msg_data.rdata),
    .mask_i          (msix_table_reg2hw.entry_vector_control.mask.q),
    .pending_o       (msix_pending),
    .msi_valid_o     (msi_valid_o),
    .msi_ready_i     (msi_ready_i),
    .msi_addr_o      (msi_addr_o),
    .msi_data_o      (msi_data_o)
  );
  assign msix_pba_hw2reg.pending.pending.d  = msix_pending;
  assign msix_pba_hw2reg.pending.pending.de = 1'b1;

  // ---- BAR2: the chunk window, and the ISM notify area pushing ISM_KICK ----

  logic [63:0] bar2_addr;
  logic        bar2_window, bar2_notify;
  logic        chunk_ack;
  logic [31:0] chunk_rdata;
  assign bar2_addr      = 64'(bar2_dec_addr);
  assign bar2_dec_sel   = '0;
  assign bar2_window    = in_window(bar2_addr, virtio_ism_ep_pkg::CHUNKS_OFFSET, virtio_ism_ep_pkg::CHUNKS_LENGTH);
  assign bar2_notify    = in_window(bar2_addr, virtio_ism_ep_pkg::NOTIFY_AREA_OFFSET, virtio_ism_ep_pkg::NOTIFY_AREA_LENGTH);
  assign bar2_m_awready = '0;
  assign bar2_m_wready  = '0;
  assign bar2_m_bvalid  = '0;
  assign bar2_m_arready = '0;
  assign bar2_m_rdata   = '0;
  assign bar2_m_rvalid  = '0;

  localparam int unsigned SlotBits = $clog2(virtio_ism_ep_pkg::CHUNKS_SLOTS) + virtio_ism_ep_pkg::CHUNKS_SHIFT;
  logic [63:0] chunk_off;
  assign chunk_off = bar2_addr - virtio_ism_ep_pkg::CHUNKS_OFFSET;

  ep_chunk_window #(
    .Slots       (virtio_ism_ep_pkg::CHUNKS_SLOTS),
    .ChunkShift  (virtio_ism_ep_pkg::CHUNKS_SHIFT),
    .BackingShift(virtio_ism_ep_pkg::BACKING_SHIFT)
  ) u_chunks (
    .clk_i         (clk_i),
    .rst_ni        (rst_ni),
    .commit_i      (fw_csr_reg2hw.chunk_commit.commit.q),
    .commit_index_i(fw_csr_reg2hw.chunk_index.index.q),
    .commit_addr_i (fw_csr_reg2hw.chunk_addr.addr.q),
    .commit_read_i (fw_csr_reg2hw.chunk_perm.read.q),
    .commit_write_i(fw_csr_reg2hw.chunk_perm.write.q),
    .commit_valid_i(fw_csr_reg2hw.chunk_perm.valid.q),
    .commit_system_i(fw_csr_reg2hw.chunk_perm.system.q),
    .bus_master_i  (header_reg2hw.command.bus_master.q),
    .req_i         (bar2_loc_req && bar2_window),
    .we_i          (bar2_dec_we),
    .offset_i      (chunk_off[SlotBits-1:0]),
    .wdata_i       (bar2_m_wdata),
    .be_i          (bar2_m_wstrb),
    .ack_o         (chunk_ack),
    .rdata_o       (chunk_rdata),
    .mem_req_o     (mem_req_o),
    .mem_sys_o     (mem_sys_o),
    .mem_we_o      (mem_we_o),
    .mem_addr_o    (mem_addr_o),
    .mem_be_o      (mem_be_o),
    .mem_wdata_o   (mem_wdata_o),
    .mem_ack_i     (mem_ack_i),
    .mem_rdata_i   (mem_rdata_i)
  );

  // ---- the firmware event FIFO: virtio logic (port 0), notify region (1), ISM notify area (2) ----

  logic [2:0]       evt_push, evt_grant;
  logic [23:0]      evt_kind;  // port i in bits 8*i+7:8*i
  logic [95:0]      evt_data;  // port i in bits 32*i+31:32*i

  // The notify region: queue = offset / notify_off_multiplier (a multiplier of 0: the written
  // value names the queue); only a queue that exists is notified. A write of all four bytes
  // carries notification data above the queue index.
  logic [63:0] notify_off;
  logic [15:0] notify_queue;
  logic        notify_exists;
  assign notify_off   = bar0_addr - virtio_ism_ep_pkg::NOTIFY_OFFSET;
  assign notify_queue = virtio_ism_ep_pkg::NOTIFY_OFF_MULTIPLIER == 0 ? bar0_m_wdata[15:0] :
                        16'(notify_off / 64'(virtio_ism_ep_pkg::NOTIFY_OFF_MULTIPLIER));
  assign notify_exists = notify_queue < 16'(Queues) && queue_exists[notify_queue[$clog2(Queues)-1:0]];

  logic [63:0] kick_off;
  assign kick_off = bar2_addr - virtio_ism_ep_pkg::NOTIFY_AREA_OFFSET;

  assign evt_push[0] = core_push;
  assign evt_kind[0+:8] = core_kind;
  assign evt_data[0+:32] = core_data;
  assign core_grant  = evt_grant[0];
  assign evt_push[1] = bar0_loc_req && bar0_dec_we && bar0_notify && notify_exists;
  assign evt_kind[8+:8] = fw_csr_reg_pkg::FW_EVENT_KIND_QUEUE_NOTIFY;
  assign evt_data[32+:32] = {bar0_m_wstrb == 4'hf ? bar0_m_wdata[31:16] : 16'h0, notify_queue};
  assign evt_push[2] = bar2_loc_req && bar2_dec_we && bar2_notify;
  assign evt_kind[16+:8] = fw_csr_reg_pkg::FW_EVENT_KIND_ISM_KICK;
  assign evt_data[64+:32] = 32'(kick_off >> virtio_ism_ep_pkg::NOTIFY_AREA_SHIFT);

  assign bar0_loc_ack   = bar0_loc_req && (!evt_push[1] || evt_grant[1]);
  assign bar0_loc_rdata = 32'h0;
  assign bar2_loc_ack   = bar2_window ? chunk_ack : bar2_loc_req && (!evt_push[2] || evt_grant[2]);
  assign bar2_loc_rdata = bar2_window ? chunk_rdata : 32'h0;


  // ---- the firmware CSR port ----

  ep_fw_port #(
    .FwAw          (FwAw),
    .EventDepth    (virtio_ism_ep_pkg::EVENT_FIFO_DEPTH),
    .NP            (3),
    .VirtioDeviceId(virtio_ism_ep_pkg::VIRTIO_DEVICE_ID),
    .Queues        (virtio_ism_ep_pkg::QUEUES),
    .Vectors       (Vectors),
    .ChunkSlots    (virtio_ism_ep_pkg::CHUNKS_SLOTS)
  ) u_fw (
    .clk_i       (clk_i),
    .rst_ni      (rst_ni),
    .fw_awaddr_i (fw_awaddr_i),
    .fw_awvalid_i(fw_awvalid_i),
    .fw_awready_o(fw_awready_o),
    .fw_wdata_i  (fw_wdata_i),
    .fw_wstrb_i  (fw_wstrb_i),
    .fw_wvalid_i (fw_wvalid_i),
    .fw_wready_o (fw_wready_o),
    .fw_bresp_o  (fw_bresp_o),
    .fw_bvalid_o (fw_bvalid_o),
    .fw_bready_i (fw_bready_i),
    .fw_araddr_i (fw_araddr_i),
    .fw_arvalid_i(fw_arvalid_i),
    .fw_arready_o(fw_arready_o),
    .fw_rdata_o  (fw_rdata_o),
    .fw_rresp_o  (fw_rresp_o),
    .fw_rvalid_o (fw_rvalid_o),
    .fw_rready_i (fw_rready_i),
    .push_i      (evt_push),
    .push_kind_i (evt_kind),
    .push_data_i (evt_data),
    .push_grant_o(evt_grant),
    .fw_irq_o    (fw_irq_o),
    .reg2hw_o    (fw_csr_reg2hw),
    .hw2reg_i    (fw_csr_hw2reg)
  );

  always_comb begin
    fw_csr_hw2reg = '0;  // ep_fw_port drives identity and event registers itself
    fw_csr_hw2reg.drv_features.accepted.d = drv_features;
    fw_csr_hw2reg.drv_features.accepted.de = drv_features_de;
    fw_csr_hw2reg.device_status.status.d = device_status;
    fw_csr_hw2reg.device_status.status.de = device_status_de;
    fw_csr_hw2reg.q_max_size               = q_max_size;
    fw_csr_hw2reg.q_state                  = q_state;
    fw_csr_hw2reg.q_msix_vector            = q_msix_vector;
    fw_csr_hw2reg.q_desc                   = q_desc;
    fw_csr_hw2reg.q_driver                 = q_driver;
    fw_csr_hw2reg.q_device                 = q_device;
  end

endmodule

`default_nettype wire
